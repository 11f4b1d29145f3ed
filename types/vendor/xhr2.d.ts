/** xhr2: XMLHttpRequest for Node (tests only: dicomweb-client needs it). */
declare module 'xhr2' {
  const XMLHttpRequest: unknown;
  export default XMLHttpRequest;
}
