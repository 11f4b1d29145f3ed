// The few host globals src/core may use: present in Node 20+, browsers and workers. Declared here so that
// src/core compiles without Node or DOM types (tsconfig.core.json).
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare const console: { log(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
declare const crypto: { getRandomValues<T extends ArrayBufferView>(array: T): T };
