/**
 * Native grey frames placed as a volume holds them: rows flipped (j = rows-1-r, docs GEOMETRY.md), values masked or
 * sign-extended to Bits Stored as the codecs do. Shared by the volume reader (assemble.ts) and the slice worker
 * (io/file-slices.ts), whose bundle stays small: this module imports nothing.
 */

/** A frame buffer of `rows` rows with a view per row, made once (not a view per row and slice). */
export interface RowBuffer {
  whole: Uint8Array;
  rows: Uint8Array[];
}

export function rowBuffer(rows: number, rowBytes: number): RowBuffer {
  const whole = new Uint8Array(rows * rowBytes);
  return { whole, rows: Array.from({ length: rows }, (_, r) => whole.subarray(r * rowBytes, (r + 1) * rowBytes)) };
}

/** Write the rows of `frame` into `target` from byte `at`, last row first. */
export function flipRowsInto(frame: RowBuffer, target: Uint8Array, at: number): void {
  const { rows } = frame;
  const rowBytes = rows[0]?.length ?? 0;
  for (let r = 0; r < rows.length; r++) target.set(rows[r]!, at + (rows.length - 1 - r) * rowBytes);
}

/** Integer arrays of native grey data. */
export type StoredArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/**
 * Values [start, end) of `values` masked (unsigned) or sign-extended (signed) from their low `bitsStored` bits, when
 * fewer bits are stored than allocated.
 */
export function clampToBitsStored(
  values: StoredArray,
  start: number,
  end: number,
  bitsStored: number,
  signed: boolean,
): void {
  if (bitsStored >= values.BYTES_PER_ELEMENT * 8) return;
  const shift = 32 - bitsStored;
  const mask = 2 ** bitsStored - 1;
  for (let i = start; i < end; i++) {
    const value = values[i]!;
    values[i] = signed ? (value << shift) >> shift : (value & mask) >>> 0;
  }
}
