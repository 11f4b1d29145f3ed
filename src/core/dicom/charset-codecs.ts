/**
 * The graphic character sets ("coding elements") of PS3.3 C.12.1.1.2 as small codecs. Decoding uses the WHATWG
 * TextDecoder present in Node and browsers (no tables shipped); encoding tables are built lazily by decoding every
 * code of a set once. Byte values of single-byte sets follow Python's codecs (as pydicom does): 0x80-0x9F are C1
 * controls, not the Windows code page characters that WHATWG substitutes for "iso-8859-9" and "windows-874".
 */

interface Decoder {
  decode(input: Uint8Array): string;
}
const decoders = new Map<string, Decoder>();
/** One cached TextDecoder per label (non-streaming decode keeps no state between calls). */
export function decoderFor(label: string): Decoder {
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label);
    decoders.set(label, decoder);
  }
  return decoder;
}

export interface Codec {
  /** Decode bytes with no escape sequences. Bytes the set does not define become U+FFFD. */
  decode(bytes: Uint8Array): string;
  /** Bytes of one code point in this set (G1 sets in their GR form, 0xA1-0xFE), or undefined when it has none. */
  encode(codePoint: number): readonly number[] | undefined;
}

/** ISO 8859-1 (and the default repertoire, which pydicom also decodes as Latin-1): byte = code point. */
export const latin1: Codec = {
  decode: latin1Decode,
  encode: (cp) => (cp <= 0xff ? [cp] : undefined),
};

export function latin1Decode(bytes: Uint8Array): string {
  const length = bytes.length;
  // Most DICOM values are short: a plain loop beats spreading a typed array into arguments by far.
  if (length <= 64) {
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }
  let text = '';
  for (let offset = 0; offset < length; offset += 8192) {
    text += String.fromCharCode.apply(null, bytes.subarray(offset, offset + 8192) as unknown as number[]);
  }
  return text;
}

/** ISO 646 G0 (ASCII; JIS X 0201 Romaji is read as ASCII, as Python's shift_jis and WHATWG both do). */
export const ascii: Codec = {
  decode: latin1Decode,
  encode: (cp) => (cp < 0x80 ? [cp] : undefined),
};

/**
 * A single-byte ISO 8859 / TIS 620 set: 0x00-0x9F map to themselves, 0xA0-0xFF come from the WHATWG index.
 * `undefinedBytes` are holes Python's codec has but the WHATWG index fills (TIS 620 0xA0 in windows-874).
 */
export function singleByte(label: string, undefinedBytes: readonly number[] = []): Codec {
  let table: string[] | undefined;
  let reverse: Map<number, number> | undefined;
  const build = (): string[] => {
    const decoder = decoderFor(label);
    const built: string[] = [];
    for (let byte = 0; byte < 256; byte++) {
      built.push(byte < 0xa0 ? String.fromCharCode(byte) : decoder.decode(new Uint8Array([byte])));
    }
    for (const byte of undefinedBytes) built[byte] = '\ufffd';
    return built;
  };
  return {
    decode(bytes) {
      table ??= build();
      const parts: string[] = [];
      for (const byte of bytes) parts.push(table[byte]!);
      return parts.join('');
    },
    encode(cp) {
      table ??= build();
      if (!reverse) {
        reverse = new Map();
        table.forEach((char, byte) => {
          if (char !== '\ufffd') reverse!.set(char.codePointAt(0)!, byte);
        });
      }
      const byte = reverse.get(cp);
      return byte === undefined ? undefined : [byte];
    },
  };
}

/** UTF-8 (ISO_IR 192). */
export const utf8: Codec = {
  decode: (bytes) => decoderFor('utf-8').decode(bytes),
  encode: (cp) => Array.from(new TextEncoder().encode(String.fromCodePoint(cp))),
};

interface PairRange {
  lead: readonly [number, number];
  trail: readonly [number, number];
  /** Bytes written before the pair when decoding it with the WHATWG decoder (0x8F for JIS X 0212 in EUC-JP). */
  prefix?: number;
  /** Subtracted from each byte of the pair when encoding (0x80 for 7-bit G0 sets decoded through EUC). */
  offset?: number;
}

/**
 * Reverse map code point -> bytes of a multi-byte set, built by decoding every code of `ranges` once
 * (8,836 codes for a 94x94 set, ~24,000 for GBK: a few milliseconds, only when a value is encoded).
 */
function reverseMap(label: string, ranges: readonly PairRange[]): Map<number, readonly number[]> {
  const decoder = decoderFor(label);
  const map = new Map<number, readonly number[]>();
  for (const { lead, trail, prefix, offset = 0 } of ranges) {
    for (let b1 = lead[0]; b1 <= lead[1]; b1++) {
      for (let b2 = trail[0]; b2 <= trail[1]; b2++) {
        if (b2 === 0x7f) continue;
        const text = decoder.decode(new Uint8Array(prefix === undefined ? [b1, b2] : [prefix, b1, b2]));
        const cp = text.codePointAt(0);
        if (text.length === 0 || cp === undefined || text === '\ufffd' || text.length > 2) continue;
        if (String.fromCodePoint(cp) !== text || map.has(cp)) continue;
        map.set(cp, [b1 - offset, b2 - offset]);
      }
    }
  }
  return map;
}

/** An ASCII-compatible multi-byte encoding decoded by TextDecoder (Shift_JIS, EUC-KR, GBK, GB18030, GB2312). */
export function multiByte(
  label: string,
  ranges: readonly PairRange[],
  singles?: (cp: number) => number | undefined,
): Codec {
  let reverse: Map<number, readonly number[]> | undefined;
  return {
    decode: (bytes) => decoderFor(label).decode(bytes),
    encode(cp) {
      if (cp < 0x80) return [cp];
      const single = singles?.(cp);
      if (single !== undefined) return [single];
      reverse ??= reverseMap(label, ranges);
      return reverse.get(cp);
    },
  };
}

const GR94: PairRange = { lead: [0xa1, 0xfe], trail: [0xa1, 0xfe] };

/** JIS X 0201 Katakana (ISO-IR 13, G1): 0xA1-0xDF are U+FF61-U+FF9F. Decoded as Shift_JIS, as pydicom does. */
export const katakana = multiByte('shift_jis', [], (cp) =>
  cp >= 0xff61 && cp <= 0xff9f ? cp - 0xff61 + 0xa1 : undefined,
);
/** Shift_JIS as a whole (ISO_IR 13 without code extensions, which pydicom decodes with Python's shift_jis). */
export const shiftJis: Codec = (() => {
  const base = multiByte(
    'shift_jis',
    [
      { lead: [0x81, 0x9f], trail: [0x40, 0xfc] },
      { lead: [0xe0, 0xef], trail: [0x40, 0xfc] },
    ],
    (cp) => (cp >= 0xff61 && cp <= 0xff9f ? cp - 0xff61 + 0xa1 : undefined),
  );
  // The Shift_JIS positions of the JIS X 0208 codes whose WHATWG mapping differs (see JIS_X_0208_FIXUPS).
  const fixups: ReadonlyMap<number, number> = new Map([
    [0x8160, 0x301c],
    [0x8161, 0x2016],
    [0x817c, 0x2212],
    [0x8191, 0xa2],
    [0x8192, 0xa3],
    [0x81ca, 0xac],
  ]);
  const fixed = reverseFixups(fixups);
  const isLead = (byte: number): boolean => (byte >= 0x81 && byte <= 0x9f) || (byte >= 0xe0 && byte <= 0xfc);
  return {
    decode: (bytes) => decodeWithFixups(bytes, isLead, fixups, (chunk) => decoderFor('shift_jis').decode(chunk)),
    encode: (cp) => fixed.get(cp) ?? base.encode(cp),
  };
})();
/**
 * Decode with a few two-byte codes mapped as Python's codecs map them where the WHATWG index differs (JIS X 0208
 * 0x2141 is WAVE DASH U+301C in JIS and Python, FULLWIDTH TILDE in WHATWG; KS X 1001:1998 added the euro sign).
 */
function decodeWithFixups(
  bytes: Uint8Array,
  isLead: (byte: number) => boolean,
  fixups: ReadonlyMap<number, number>,
  decodeChunk: (chunk: Uint8Array) => string,
): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (!isLead(bytes[i]!)) continue;
    const fixed = fixups.get((bytes[i]! << 8) | (bytes[i + 1] ?? 0));
    if (fixed !== undefined) {
      parts.push(decodeChunk(bytes.subarray(start, i)), String.fromCodePoint(fixed));
      start = i + 2;
    }
    i++;
  }
  parts.push(decodeChunk(bytes.subarray(start)));
  return parts.join('');
}

function codeBytes(code: number): readonly number[] {
  return [code >> 8, code & 0xff];
}
function reverseFixups(fixups: ReadonlyMap<number, number>): Map<number, readonly number[]> {
  return new Map([...fixups].map(([code, cp]) => [cp, codeBytes(code)]));
}

const KSX1001_FIXUPS: ReadonlyMap<number, number> = new Map([
  [0xa2e6, 0x20ac],
  [0xa2e7, 0xae],
]);
/** KS X 1001 (ISO-IR 149, G1; EUC-KR). */
export const ksx1001: Codec = (() => {
  const base = multiByte('euc-kr', [GR94]);
  const fixed = reverseFixups(KSX1001_FIXUPS);
  return {
    decode: (bytes) =>
      decodeWithFixups(
        bytes,
        (byte) => byte >= 0x81,
        KSX1001_FIXUPS,
        (chunk) => decoderFor('euc-kr').decode(chunk),
      ),
    encode: (cp) => fixed.get(cp) ?? base.encode(cp),
  };
})();
/** GB 2312 codes that GB2312.TXT (and Python's gb2312) maps differently from WHATWG's GBK index. */
const GB2312_FIXUPS: ReadonlyMap<number, number> = new Map([
  [0xa1a4, 0x30fb],
  [0xa1aa, 0x2015],
]);
/** GB 2312 (ISO-IR 58, G1; EUC-CN, decoded by the GBK superset). */
export const gb2312: Codec = (() => {
  const base = multiByte('gbk', [GR94]);
  const fixed = reverseFixups(GB2312_FIXUPS);
  return {
    decode: (bytes) =>
      decodeWithFixups(
        bytes,
        (byte) => byte >= 0x81,
        GB2312_FIXUPS,
        (chunk) => decoderFor('gbk').decode(chunk),
      ),
    encode: (cp) => fixed.get(cp) ?? base.encode(cp),
  };
})();
/** GBK and GB 18030 (stand-alone, PS3.5 6.1.2.5.4 d). Encoding covers the two-byte codes; others become "?". */
const GBK_RANGES: readonly PairRange[] = [{ lead: [0x81, 0xfe], trail: [0x40, 0xfe] }];
export const gbk = multiByte('gbk', GBK_RANGES);
export const gb18030 = multiByte('gb18030', GBK_RANGES);

/**
 * A 94x94 G0 set designated by ISO 2022 (JIS X 0208 ISO-IR 87, JIS X 0212 ISO-IR 159): two 7-bit bytes per
 * character, decoded through EUC-JP (bytes | 0x80, with 0x8F first for JIS X 0212). Bytes below 0x21 are controls.
 */
function jis(fixups: ReadonlyMap<number, number>, prefix?: number): Codec {
  let reverse: Map<number, readonly number[]> | undefined;
  const decodeChunk = (bytes: Uint8Array): string => {
    const euc: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b1 = bytes[i]!;
      const b2 = bytes[i + 1];
      if (b1 >= 0x21 && b1 <= 0x7e && b2 !== undefined && b2 >= 0x21 && b2 <= 0x7e) {
        if (prefix !== undefined) euc.push(prefix);
        euc.push(b1 | 0x80, b2 | 0x80);
        i++;
      } else {
        // A control (or a lone byte): kept as itself; a high byte is not part of a 7-bit set.
        euc.push(b1 < 0x80 ? b1 : 0xff);
      }
    }
    return decoderFor('euc-jp').decode(new Uint8Array(euc));
  };
  return {
    decode: (bytes) => decodeWithFixups(bytes, (byte) => byte >= 0x21 && byte <= 0x7e, fixups, decodeChunk),
    encode(cp) {
      if (!reverse) {
        const range = prefix === undefined ? { ...GR94, offset: 0x80 } : { ...GR94, prefix, offset: 0x80 };
        reverse = reverseMap('euc-jp', [range]);
        for (const [fixedCp, bytes] of reverseFixups(fixups)) reverse.set(fixedCp, bytes);
      }
      return reverse.get(cp);
    },
  };
}
/** JIS X 0208 codes whose Unicode mapping differs between the JIS standard (and Python) and WHATWG. */
const JIS_X_0208_FIXUPS: ReadonlyMap<number, number> = new Map([
  [0x2141, 0x301c],
  [0x2142, 0x2016],
  [0x215d, 0x2212],
  [0x2171, 0xa2],
  [0x2172, 0xa3],
  [0x224c, 0xac],
]);
export const jisX0208 = jis(JIS_X_0208_FIXUPS);
export const jisX0212 = jis(new Map([[0x2237, 0x7e]]), 0x8f);
