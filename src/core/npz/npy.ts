/**
 * The NumPy .npy format, version 1.0 (numpy/lib/format.py, NEP 1): magic "\x93NUMPY", version, a little-endian
 * uint16 header length, then an ASCII Python dict literal (descr, fortran_order, shape) padded with spaces and a
 * newline so the data starts on a 64-byte boundary, then the array bytes in C order.
 */

export type NpyDescr = '<f4' | '<f8' | '|u1' | '<i2' | '<u2' | '<i4';

/** The .npy header for a C-order array of `shape` (e.g. [Z, Y, X]). */
export function npyHeader(descr: NpyDescr, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  dict = `${dict.padEnd(total - preamble - 1, ' ')}\n`;
  if (dict.length > 0xffff) throw new RangeError('npy header too long for format 1.0');
  const out = new Uint8Array(preamble + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93 N U M P Y, version 1.0
  out[8] = dict.length & 0xff;
  out[9] = dict.length >> 8;
  for (let i = 0; i < dict.length; i++) out[preamble + i] = dict.charCodeAt(i);
  return out;
}
