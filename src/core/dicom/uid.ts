/**
 * UIDs (PS3.5 9). medvox generates UUID-derived UIDs under the 2.25 root (PS3.5 B.2): no registration needed,
 * globally unique, at most 64 characters. Deterministic UIDs (from a seed) serve phantoms and tests.
 */

/** Implementation Class UID written in the File Meta Information of every file medvox writes. */
export const MEDVOX_IMPLEMENTATION_CLASS_UID = '2.25.271956104524233106131766093539848722791';
export const MEDVOX_IMPLEMENTATION_VERSION = 'MEDVOX_0_1';

function bytesToUid(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes.subarray(0, 16)) value = (value << 8n) | BigInt(byte);
  return `2.25.${value.toString()}`;
}

/** FNV-1a based 128-bit digest of a string (deterministic, not cryptographic). */
function digest128(seed: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let lane = 0; lane < 4; lane++) {
    let hash = 0x811c9dc5 ^ (lane * 0x9e3779b9);
    for (let i = 0; i < seed.length; i++) {
      hash ^= seed.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0x2c1b3c6d) >>> 0;
    hash ^= hash >>> 12;
    new DataView(out.buffer).setUint32(lane * 4, hash >>> 0);
  }
  return out;
}

/** A new UID: random (crypto.getRandomValues) or, with a seed, deterministic for that seed. */
export function generateUid(seed?: string): string {
  if (seed !== undefined) return bytesToUid(digest128(seed));
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return bytesToUid(bytes);
}

/** PS3.5 9.1: components of digits without leading zeros, separated by '.', at most 64 characters. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}
