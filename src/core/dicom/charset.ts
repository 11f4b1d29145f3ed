/**
 * Specific Character Set (0008,0005) decoding and encoding (PS3.5 6.1, PS3.3 C.12.1.1.2): the single-byte sets,
 * UTF-8, GB18030 / GBK, and ISO 2022 code extensions (escape sequences designating G0 / G1 sets, reset to the
 * initial state at delimiters). Results agree with pydicom 2.3 on its charset test files (test/core/dicom/charset*).
 */
import {
  ascii,
  type Codec,
  gb2312,
  gb18030,
  gbk,
  jisX0208,
  jisX0212,
  katakana,
  ksx1001,
  latin1,
  latin1Decode,
  shiftJis,
  singleByte,
  utf8,
} from './charset-codecs.ts';
import type { VR } from './model.ts';

const ESC = 0x1b;

/** A graphic set an ISO 2022 escape sequence designates (PS3.3 Tables C.12-3 and C.12-4). */
interface CodeElement {
  readonly designation: readonly number[];
  /** 0: designated to G0 (7-bit bytes); 1: designated to G1 (bytes with the high bit set). */
  readonly graphic: 0 | 1;
  readonly multiByte: boolean;
  readonly codec: Codec;
}

const esc = (text: string): number[] => [ESC, ...Array.from(text, (ch) => ch.charCodeAt(0))];
const g0 = (sequence: string, codec: Codec, multiByte = false): CodeElement => ({
  designation: esc(sequence),
  graphic: 0,
  multiByte,
  codec,
});
const g1 = (sequence: string, codec: Codec, multiByte = false): CodeElement => ({
  designation: esc(sequence),
  graphic: 1,
  multiByte,
  codec,
});

const ISO8859 = {
  100: latin1,
  101: singleByte('iso-8859-2'),
  109: singleByte('iso-8859-3'),
  110: singleByte('iso-8859-4'),
  126: singleByte('iso-8859-7'),
  127: singleByte('iso-8859-6'),
  138: singleByte('iso-8859-8'),
  144: singleByte('iso-8859-5'),
  // WHATWG decodes "iso-8859-9" as windows-1254: identical from 0xA0, and only 0xA0-0xFF are taken from it.
  148: singleByte('iso-8859-9'),
  // TIS 620 is windows-874 without the bytes Python's tis_620 leaves undefined.
  166: singleByte('windows-874', [0xa0, 0xdb, 0xdc, 0xdd, 0xde, 0xfc, 0xfd, 0xfe, 0xff]),
} as const;
const ISO8859_FINAL = {
  100: 'A',
  101: 'B',
  109: 'C',
  110: 'D',
  126: 'F',
  127: 'G',
  138: 'H',
  144: 'L',
  148: 'M',
  166: 'T',
};

const ASCII_G0 = g0('(B', ascii);
const ROMAJI_G0 = g0('(J', ascii);
const ELEMENTS: readonly CodeElement[] = [
  ASCII_G0,
  ROMAJI_G0,
  g1(')I', katakana),
  g0('$B', jisX0208, true),
  g0('$@', jisX0208, true), // JIS C 6226-1978, the older designation of the same set
  g0('$(D', jisX0212, true),
  g1('$)C', ksx1001, true),
  g1('$)A', gb2312, true),
  ...Object.entries(ISO8859_FINAL).map(([ir, final]) => g1(`-${final}`, ISO8859[Number(ir) as keyof typeof ISO8859])),
];
const element = (sequence: string): CodeElement => ELEMENTS.find((e) => e.designation.join() === esc(sequence).join())!;

/** Defined terms with code extensions (PS3.3 Table C.12-3 / C.12-4): the sets each designates. */
const ISO2022_TERMS: Readonly<Record<string, { g0?: CodeElement; g1?: CodeElement }>> = {
  'ISO 2022 IR 6': { g0: ASCII_G0 },
  'ISO 2022 IR 13': { g0: ROMAJI_G0, g1: element(')I') },
  'ISO 2022 IR 87': { g0: element('$B') },
  'ISO 2022 IR 159': { g0: element('$(D') },
  'ISO 2022 IR 149': { g1: element('$)C') },
  'ISO 2022 IR 58': { g1: element('$)A') },
  ...Object.fromEntries(
    Object.entries(ISO8859_FINAL).map(([ir, final]) => [
      `ISO 2022 IR ${ir}`,
      { g0: ASCII_G0, g1: element(`-${final}`) },
    ]),
  ),
};

/** Defined terms without code extensions (PS3.3 Table C.12-2, and CP 1234's GBK / GB2312 terms). */
const SINGLE_TERMS: Readonly<Record<string, Codec>> = {
  '': latin1,
  'ISO_IR 6': latin1,
  'ISO_IR 13': shiftJis,
  'ISO_IR 192': utf8,
  GB18030: gb18030,
  GBK: gbk,
  'ISO 2022 GBK': gbk,
  'ISO 2022 58': gb2312,
  ...Object.fromEntries(Object.entries(ISO8859).map(([ir, codec]) => [`ISO_IR ${ir}`, codec])),
};

/** Sets that cannot be combined with code extensions (PS3.5 6.1.2.5.4 d). */
const STAND_ALONE = new Set(['ISO_IR 192', 'GB18030', 'GBK']);

interface CharacterSet {
  /** Set when the value uses no code extensions: the whole value is decoded with it. */
  readonly codec?: Codec;
  readonly initialG0: CodeElement;
  readonly initialG1: CodeElement | undefined;
  /** Designations allowed by the terms, in term order (the encoder's preference). */
  readonly extensions: readonly CodeElement[];
}

/** Common misspellings pydicom accepts ("ISO IR 100", "ISO_2022_IR_87"), else the term itself. */
function correctTerm(term: string): string {
  if (term in SINGLE_TERMS || term in ISO2022_TERMS) return term;
  if (/^ISO[^_]IR/.test(term)) return `ISO_IR${term.slice(6)}`;
  if (/^(?=ISO.2022.IR.)(?!ISO 2022 IR )/.test(term)) return `ISO 2022 IR ${term.slice(12)}`;
  return term;
}

/** Terms medvox does not know (decoded with the default repertoire, as pydicom does). */
export function unknownCharacterSetTerms(terms: readonly string[]): string[] {
  return terms.map(correctTerm).filter((term) => !(term in SINGLE_TERMS) && !(term in ISO2022_TERMS));
}

const resolved = new Map<string, CharacterSet>();

function resolveCharacterSet(terms: readonly string[]): CharacterSet {
  const key = terms.join('\\');
  let set = resolved.get(key);
  if (set) return set;
  const corrected = terms.map(correctTerm);
  const first = corrected[0] ?? '';
  if (corrected.length <= 1 && !first.startsWith('ISO 2022')) {
    set = { codec: SINGLE_TERMS[first] ?? latin1, initialG0: ASCII_G0, initialG1: undefined, extensions: [] };
  } else if (STAND_ALONE.has(first)) {
    // A stand-alone set as value 1: the other values are ignored (pydicom does the same).
    set = { codec: SINGLE_TERMS[first], initialG0: ASCII_G0, initialG1: undefined, extensions: [] };
  } else {
    const designations = corrected
      .filter((term, index) => index === 0 || !STAND_ALONE.has(term))
      .map((term) => ISO2022_TERMS[term.replace(/^ISO_IR /, 'ISO 2022 IR ')] ?? (term === '' ? { g0: ASCII_G0 } : {}));
    const initial = designations[0] ?? {};
    set = {
      // A multi-byte G0 set is never the initial state: value 1 starts in ASCII.
      initialG0: initial.g0 && !initial.g0.multiByte ? initial.g0 : ASCII_G0,
      initialG1: initial.g1,
      extensions: designations.flatMap((d) => [d.g0, d.g1].filter((e): e is CodeElement => e !== undefined)),
    };
  }
  resolved.set(key, set);
  return set;
}

/**
 * Bytes that return to the initial state when the active G0 set is single-byte (PS3.5 6.1.2.5.3): CR, LF, TAB,
 * FF for text, "^" and "=" for person names, and the value delimiter "\" for multi-valued VRs.
 */
function delimitersFor(vr: VR | undefined): ReadonlySet<number> {
  if (vr === 'PN') return PN_DELIMITERS;
  if (vr === 'LT' || vr === 'ST' || vr === 'UT') return TEXT_DELIMITERS;
  return MULTI_TEXT_DELIMITERS;
}
const TEXT_DELIMITERS: ReadonlySet<number> = new Set([0x0d, 0x0a, 0x09, 0x0c]);
const MULTI_TEXT_DELIMITERS: ReadonlySet<number> = new Set([...TEXT_DELIMITERS, 0x5c]);
const PN_DELIMITERS: ReadonlySet<number> = new Set([0x5e, 0x3d, 0x5c]);

/** Decode a text value (delimiters included) with the Specific Character Set terms in force. */
export function decodeText(bytes: Uint8Array, characterSet: readonly string[], vr: VR): string {
  // Printable ASCII without ESC reads the same in every character set DICOM defines (PS3.3 C.12.1.1.2: each has
  // ASCII, or JIS X 0201 Romaji read as ASCII as pydicom does, as its G0): skip the codec for it.
  if (isPlainAscii(bytes)) return latin1Decode(bytes);
  const set = resolveCharacterSet(characterSet);
  if (set.codec) return set.codec.decode(bytes);
  if (!bytes.includes(ESC)) return runCodec(set.initialG0, set.initialG1).decode(bytes);
  return decodeWithEscapes(bytes, set, delimitersFor(vr));
}

function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80 || byte === ESC) return false;
  }
  return true;
}

function runCodec(g0: CodeElement, g1: CodeElement | undefined): Codec {
  // Single-byte G0: every set used as G1 is ASCII-compatible below 0x80; with no G1, high bytes read as Latin-1.
  return g0.multiByte ? g0.codec : (g1?.codec ?? latin1);
}

/** A run of bytes in one state. With a multi-byte G0 set, bytes with the high bit set still belong to G1. */
function decodeRun(run: Uint8Array, current0: CodeElement, current1: CodeElement | undefined): string {
  if (!current0.multiByte) return runCodec(current0, current1).decode(run);
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= run.length; i++) {
    if (i === run.length || run[i]! >= 0x80 !== run[start]! >= 0x80) {
      const piece = run.subarray(start, i);
      parts.push(run[start]! >= 0x80 ? (current1?.codec ?? latin1).decode(piece) : current0.codec.decode(piece));
      start = i;
    }
  }
  return parts.join('');
}

function matchEscape(bytes: Uint8Array, at: number): CodeElement | undefined {
  for (const candidate of ELEMENTS) {
    const sequence = candidate.designation;
    let k = 1;
    while (k < sequence.length && bytes[at + k] === sequence[k]) k++;
    if (k === sequence.length) return candidate;
  }
  return undefined;
}

/** PS3.5 6.1.2.5: escape sequences switch G0 / G1; delimiters in a single-byte G0 state restore the initial sets. */
function decodeWithEscapes(bytes: Uint8Array, set: CharacterSet, delimiters: ReadonlySet<number>): string {
  const parts: string[] = [];
  let current0 = set.initialG0;
  let current1 = set.initialG1;
  let runStart = 0;
  const flush = (end: number): void => {
    if (end > runStart) parts.push(decodeRun(bytes.subarray(runStart, end), current0, current1));
  };
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte === ESC) {
      const designated = matchEscape(bytes, i);
      if (designated) {
        flush(i);
        if (designated.graphic === 0) current0 = designated;
        else current1 = designated;
        i += designated.designation.length;
        runStart = i;
        continue;
      }
      // An unknown escape sequence stays in the text, as pydicom leaves it.
    } else if (current0.multiByte && byte >= 0x21 && byte <= 0x7e) {
      i += 2; // a two-byte character: its bytes are never delimiters
      continue;
    } else if (delimiters.has(byte) && (current0 !== set.initialG0 || current1 !== set.initialG1)) {
      flush(i);
      current0 = set.initialG0;
      current1 = set.initialG1;
      runStart = i;
    }
    i++;
  }
  flush(bytes.length);
  return parts.join('');
}

/**
 * Encode text with the Specific Character Set terms in force. With code extensions, each character uses the first
 * set (in term order) that has it, designated by its escape sequence; value 1's sets are restored before delimiters
 * and at the end (PS3.5 6.1.2.5.3). Characters no set has become "?".
 */
export function encodeText(text: string, characterSet: readonly string[], vr?: VR): Uint8Array {
  const set = resolveCharacterSet(characterSet);
  if (set.codec === utf8) return new TextEncoder().encode(text);
  const out: number[] = [];
  if (set.codec) {
    for (const char of text) out.push(...(set.codec.encode(char.codePointAt(0)!) ?? [0x3f]));
    return new Uint8Array(out);
  }
  const delimiters = delimitersFor(vr);
  let current0 = set.initialG0;
  let current1 = set.initialG1;
  // Value 1's sets are made active again before delimiters and at the end (PS3.5 6.1.2.5.3). With no G1 set in
  // value 1 there is nothing to designate back, as in the Korean example of PS3.5 Annex I.
  const restoreInitial = (): void => {
    if (current0 !== set.initialG0) out.push(...set.initialG0.designation);
    if (current1 !== set.initialG1 && set.initialG1) out.push(...set.initialG1.designation);
    current0 = set.initialG0;
    current1 = set.initialG1;
  };
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    if (cp < 0x80 && delimiters.has(cp)) {
      restoreInitial();
      out.push(cp);
      continue;
    }
    const inCurrent = encodeIn(current0, current1, cp);
    if (inCurrent) {
      out.push(...inCurrent);
      continue;
    }
    const target = [set.initialG0, ...(set.initialG1 ? [set.initialG1] : []), ...set.extensions].find(
      (candidate) =>
        (candidate.graphic === 0 ? cp < 0x80 || candidate.multiByte : cp >= 0x80) && candidate.codec.encode(cp),
    );
    if (!target) {
      restoreInitial();
      out.push(0x3f);
      continue;
    }
    out.push(...target.designation);
    if (target.graphic === 0) current0 = target;
    else current1 = target;
    out.push(...encodeIn(current0, current1, cp)!);
  }
  restoreInitial();
  return new Uint8Array(out);
}

function encodeIn(current0: CodeElement, current1: CodeElement | undefined, cp: number): readonly number[] | undefined {
  if (cp >= 0x80) {
    // G1 bytes have the high bit set, so a G1 character can follow a multi-byte G0 set without switching back.
    const viaG1 = current1?.codec.encode(cp);
    if (viaG1 && viaG1[0]! >= 0x80) return viaG1;
  }
  if (current0.multiByte) return cp < 0x80 ? undefined : current0.codec.encode(cp);
  return cp < 0x80 ? [cp] : undefined;
}
