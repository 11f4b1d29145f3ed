/**
 * Specific Character Set (0008,0005) decoding and encoding (PS3.5 6.1, PS3.3 C.12.1.1.2).
 * Placeholder: ISO_IR 100 / ISO_IR 192 / default repertoire only. The full implementation (ISO 2022 code
 * extensions, multi-byte sets) replaces this module.
 */
import type { VR } from './model.ts';

export function decodeText(bytes: Uint8Array, characterSet: readonly string[], _vr: VR): string {
  const term = (characterSet[0] ?? '').trim();
  if (term === 'ISO_IR 192') return new TextDecoder('utf-8').decode(bytes);
  return new TextDecoder('latin1').decode(bytes);
}

export function encodeText(text: string, characterSet: readonly string[]): Uint8Array {
  const term = (characterSet[0] ?? '').trim();
  if (term === 'ISO_IR 192') return new TextEncoder().encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
