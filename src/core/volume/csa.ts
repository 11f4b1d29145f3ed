/**
 * Siemens CSA headers ((0029,1010) CSA Image Header Info, (0029,1020) Series Header Info): the "SV10" binary
 * format of name / VM / VR / items, as read by dcm2niix and nibabel.nicom.csareader.
 */
export type CsaHeader = Map<string, string[]>;

export function parseCsa(bytes: Uint8Array): CsaHeader | undefined {
  const out: CsaHeader = new Map();
  if (bytes.length < 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isV2 = bytes[0] === 0x53 && bytes[1] === 0x56 && bytes[2] === 0x31 && bytes[3] === 0x30; // "SV10"
  let offset = isV2 ? 8 : 0;
  const tagCount = view.getUint32(offset, true);
  if (tagCount < 1 || tagCount > 1000) return undefined;
  offset += 8;
  const readString = (start: number, length: number): string => {
    let text = '';
    for (let i = start; i < start + length && i < bytes.length; i++) {
      if (bytes[i] === 0) break;
      text += String.fromCharCode(bytes[i]!);
    }
    return text;
  };
  for (let tag = 0; tag < tagCount; tag++) {
    if (offset + 84 > bytes.length) return out;
    const name = readString(offset, 64);
    const itemCount = view.getInt32(offset + 64 + 4 + 4 + 4, true);
    offset += 84;
    const values: string[] = [];
    for (let item = 0; item < itemCount; item++) {
      if (offset + 16 > bytes.length) return out;
      const length = view.getInt32(offset + 4, true);
      offset += 16;
      if (length < 0 || offset + length > bytes.length) return out;
      values.push(readString(offset, length).trim());
      offset += isV2 ? Math.ceil(length / 4) * 4 : length;
    }
    out.set(
      name,
      values.filter((value) => value !== ''),
    );
  }
  return out;
}

export function csaNumbers(header: CsaHeader | undefined, name: string): number[] {
  return (header?.get(name) ?? []).map(Number).filter(Number.isFinite);
}
