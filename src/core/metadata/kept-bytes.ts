/**
 * The bytes (and VR) a value was decoded from, kept so that the next instance's value can be compared with them:
 * consecutive instances of a series repeat most values, and comparing a few bytes costs less than decoding them.
 */
import type { ValueLocation, VR } from '../dicom/model.ts';

export class KeptBytes {
  private bytes = new Uint8Array(64);
  private length = -1;
  private vr: VR = 'UN';
  /** A kept byte was non-ASCII (or ESC): the value's text depends on the character set. */
  charsetDependent = false;

  /** True when `location` holds the kept bytes with the kept VR. */
  matches(location: ValueLocation): boolean {
    const { bytes, start, end, vr } = location;
    const length = end - start;
    if (length !== this.length || vr !== this.vr) return false;
    const kept = this.bytes;
    // From the end: UIDs of one series share long prefixes.
    for (let i = length - 1; i >= 0; i--) if (kept[i] !== bytes[start + i]) return false;
    return true;
  }

  keep(location: ValueLocation): void {
    const { bytes, start, end, vr } = location;
    const length = end - start;
    if (this.bytes.length < length) this.bytes = new Uint8Array(Math.max(length, this.bytes.length * 2));
    let charsetDependent = false;
    for (let i = 0; i < length; i++) {
      const byte = bytes[start + i]!;
      this.bytes[i] = byte;
      if (byte >= 0x80 || byte === 0x1b) charsetDependent = true;
    }
    this.length = length;
    this.vr = vr;
    this.charsetDependent = charsetDependent;
  }
}

/** Reused where a value's place is looked up (ReadonlyDataset.locate) and used at once. */
export function newLocation(): ValueLocation {
  return { bytes: new Uint8Array(0), start: 0, end: 0, vr: 'UN' };
}
