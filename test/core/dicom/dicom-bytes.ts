/**
 * Hand-built DICOM bytes for the reader's unit tests: each helper writes exactly the encoding PS3.5 7.1 describes,
 * so a test shows the bytes it feeds the reader.
 */

export type Bytes = Uint8Array;
export const UNDEFINED = 0xffffffff;

export function concat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const ascii = (text: string): Bytes => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** Text padded to even length (space, or NUL for UI). */
export function text(value: string, pad = ' '): Bytes {
  return ascii(value.length % 2 ? value + pad : value);
}

export function u16(values: number[], littleEndian = true): Bytes {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((value, index) => {
    view.setUint16(index * 2, value, littleEndian);
  });
  return out;
}

export function u32(values: number[], littleEndian = true): Bytes {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((value, index) => {
    view.setUint32(index * 4, value >>> 0, littleEndian);
  });
  return out;
}

export function f64(values: number[], littleEndian = true): Bytes {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((value, index) => {
    view.setFloat64(index * 8, value, littleEndian);
  });
  return out;
}

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function tagBytes(tag: number, littleEndian: boolean): Bytes {
  return u16([tag >>> 16, tag & 0xffff], littleEndian);
}

/** Explicit VR element (PS3.5 7.1.2); `length` overrides the value length (e.g. UNDEFINED). */
export function explicit(
  tag: number,
  vr: string,
  value: Bytes,
  options: { le?: boolean; length?: number } = {},
): Bytes {
  const le = options.le ?? true;
  const length = options.length ?? value.length;
  const header = LONG.has(vr)
    ? concat(tagBytes(tag, le), ascii(vr), new Uint8Array(2), u32([length], le))
    : concat(tagBytes(tag, le), ascii(vr), u16([length], le));
  return concat(header, value);
}

/** Implicit VR little endian element (PS3.5 7.1.3). */
export function implicit(tag: number, value: Bytes, length: number = value.length): Bytes {
  return concat(tagBytes(tag, true), u32([length]), value);
}

/** Item (FFFE,E000) with defined or undefined length; an undefined-length item gets its delimiter. */
export function item(content: Bytes, options: { undefinedLength?: boolean; le?: boolean } = {}): Bytes {
  const le = options.le ?? true;
  if (!options.undefinedLength) return concat(tagBytes(0xfffee000, le), u32([content.length], le), content);
  return concat(tagBytes(0xfffee000, le), u32([UNDEFINED], le), content, tagBytes(0xfffee00d, le), u32([0], le));
}

export function sequenceDelimiter(le = true): Bytes {
  return concat(tagBytes(0xfffee0dd, le), u32([0], le));
}

/** 128-byte preamble, DICM, and a File Meta group (explicit VR LE, PS3.10 7.1) for `transferSyntax`. */
export function part10(transferSyntax: string, dataset: Bytes, options: { groupLength?: boolean } = {}): Bytes {
  const elements = concat(
    explicit(0x00020001, 'OB', new Uint8Array([0, 1])),
    explicit(0x00020002, 'UI', text('1.2.840.10008.5.1.4.1.1.7', '\0')),
    explicit(0x00020003, 'UI', text('1.2.3.4', '\0')),
    explicit(0x00020010, 'UI', text(transferSyntax, '\0')),
  );
  const groupLength =
    options.groupLength === false ? new Uint8Array() : explicit(0x00020000, 'UL', u32([elements.length]));
  return concat(new Uint8Array(128), ascii('DICM'), groupLength, elements, dataset);
}
