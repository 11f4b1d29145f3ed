/**
 * JPEG lossless (ITU-T T.81 process 14, SOF3, Huffman coded; DICOM transfer syntaxes 1.2.840.10008.1.2.4.57 and
 * .70): predictors 1-7, point transform, restart intervals, one interleaved scan or one scan per component.
 * Written for speed: the entropy-coded segment is unstuffed once, Huffman codes are decoded through a 9-bit
 * lookahead table, and the predictor loop works on one typed array. Streams it does not handle (hierarchical,
 * arithmetic coding, sampling factors other than 1) return undefined so that the caller can use another decoder.
 */

/** Decoded samples, interleaved by component (c fastest), values as the encoder saw them (shifted back by Pt). */
export interface JpegLosslessImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  samples: Uint16Array;
}

class JpegError extends Error {}

const LOOKAHEAD = 9;

interface HuffmanTable {
  /** (length << 8 | symbol) for codes of at most LOOKAHEAD bits, indexed by the next LOOKAHEAD bits; 0 = longer. */
  fast: Uint16Array;
  /** Canonical decoding for longer codes: maxCode[l] (-1 when none), valueOffset[l], symbols. */
  maxCode: Int32Array;
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

function buildTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const fast = new Uint16Array(1 << LOOKAHEAD);
  const maxCode = new Int32Array(18).fill(-1);
  const valueOffset = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const count = counts[length - 1]!;
    valueOffset[length] = k - code;
    for (let i = 0; i < count; i++) {
      if (length <= LOOKAHEAD) {
        const shift = LOOKAHEAD - length;
        const start = code << shift;
        for (let fill = 0; fill < 1 << shift; fill++) fast[start + fill] = (length << 8) | symbols[k]!;
      }
      code++;
      k++;
    }
    if (count > 0) maxCode[length] = code - 1;
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { fast, maxCode, valueOffset, symbols };
}

/** Bits of the unstuffed entropy-coded data; reads past the end give zeros (a damaged stream decodes as zeros). */
class BitReader {
  private position = 0;
  private buffer = 0;
  private count = 0;
  constructor(private readonly data: Uint8Array) {}

  private fill(): void {
    while (this.count <= 24) {
      const byte = this.position < this.data.length ? this.data[this.position]! : 0;
      this.position++;
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  peek(bits: number): number {
    if (this.count < bits) this.fill();
    return (this.buffer >>> (this.count - bits)) & ((1 << bits) - 1);
  }

  skip(bits: number): void {
    this.count -= bits;
  }

  read(bits: number): number {
    if (bits === 0) return 0;
    const value = this.peek(bits);
    this.count -= bits;
    return value;
  }

  decode(table: HuffmanTable): number {
    const entry = table.fast[this.peek(LOOKAHEAD)]!;
    if (entry !== 0) {
      this.count -= entry >> 8;
      return entry & 0xff;
    }
    let code = this.read(LOOKAHEAD);
    let length = LOOKAHEAD;
    while (length < 16 && code > table.maxCode[length]!) {
      code = (code << 1) | this.read(1);
      length++;
    }
    if (code > table.maxCode[length]!) throw new JpegError('bad Huffman code');
    return table.symbols[table.valueOffset[length]! + code]!;
  }

  /** The difference for a Huffman category (T.81 H.1.2.2: 16 means 32768, no extra bits). */
  difference(category: number): number {
    if (category === 0) return 0;
    if (category === 16) return 32768;
    const bits = this.read(category);
    return bits < 1 << (category - 1) ? bits - (1 << category) + 1 : bits;
  }
}

interface Frame {
  precision: number;
  height: number;
  width: number;
  componentIds: number[];
}

interface Scan {
  components: number[];
  tables: HuffmanTable[];
  predictor: number;
  pointTransform: number;
  /** Entropy-coded data per restart interval, unstuffed. */
  intervals: Uint8Array[];
}

const readUint16 = (data: Uint8Array, at: number): number => (data[at]! << 8) | data[at + 1]!;

/** Entropy-coded data from `start` up to the next marker that is not RSTn, split at RSTn, stuffing removed. */
function entropySegments(data: Uint8Array, start: number): { intervals: Uint8Array[]; end: number } {
  const intervals: Uint8Array[] = [];
  let out = new Uint8Array(Math.max(16, data.length - start));
  let length = 0;
  let i = start;
  for (;;) {
    if (i >= data.length) break;
    const byte = data[i]!;
    if (byte !== 0xff) {
      out[length++] = byte;
      i++;
      continue;
    }
    let next = data[i + 1];
    while (next === 0xff) next = data[++i + 1]; // fill bytes
    if (next === 0x00) {
      out[length++] = 0xff;
      i += 2;
    } else if (next !== undefined && next >= 0xd0 && next <= 0xd7) {
      intervals.push(out.subarray(0, length));
      out = out.subarray(length);
      length = 0;
      i += 2;
    } else {
      break; // another marker: the scan ends
    }
  }
  intervals.push(out.subarray(0, length));
  return { intervals, end: i };
}

/** Decode a JPEG lossless stream; undefined for what this decoder does not handle (the caller falls back). */
export function decodeJpegLosslessFast(data: Uint8Array): JpegLosslessImage | undefined {
  try {
    return decode(data);
  } catch (error) {
    if (error instanceof JpegError || error instanceof RangeError) return undefined;
    throw error;
  }
}

function decode(data: Uint8Array): JpegLosslessImage | undefined {
  if (readUint16(data, 0) !== 0xffd8) throw new JpegError('no SOI');
  const tables = new Map<number, HuffmanTable>();
  let frame: Frame | undefined;
  let restartInterval = 0;
  let samples: Uint16Array | undefined;
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) throw new JpegError(`no marker at ${i}`);
    const marker = data[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd9) break; // EOI
    const length = readUint16(data, i + 2);
    const body = i + 4;
    const next = i + 2 + length;
    if (marker === 0xc4) {
      for (let at = body; at < next; ) {
        const id = data[at]!;
        const counts = data.subarray(at + 1, at + 17);
        const total = counts.reduce((sum, count) => sum + count, 0);
        tables.set(id & 0x0f, buildTable(counts, data.subarray(at + 17, at + 17 + total)));
        at += 17 + total;
      }
    } else if (marker === 0xc3) {
      const components = data[body + 5]!;
      const componentIds: number[] = [];
      for (let c = 0; c < components; c++) {
        if (data[body + 6 + c * 3 + 1] !== 0x11) return undefined; // subsampled components
        componentIds.push(data[body + 6 + c * 3]!);
      }
      frame = {
        precision: data[body]!,
        height: readUint16(data, body + 1),
        width: readUint16(data, body + 3),
        componentIds,
      };
      if (frame.height === 0) return undefined; // height in a DNL marker
      samples = new Uint16Array(frame.width * frame.height * components);
    } else if (
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xde
    ) {
      return undefined; // another process (DCT, hierarchical, arithmetic)
    } else if (marker === 0xdd) {
      restartInterval = readUint16(data, body);
    } else if (marker === 0xda) {
      if (!frame || !samples) throw new JpegError('SOS before SOF3');
      const count = data[body]!;
      const components: number[] = [];
      const scanTables: HuffmanTable[] = [];
      for (let c = 0; c < count; c++) {
        const index = frame.componentIds.indexOf(data[body + 1 + c * 2]!);
        const table = tables.get(data[body + 2 + c * 2]! >> 4);
        if (index < 0 || !table) throw new JpegError('scan references an unknown component or table');
        components.push(index);
        scanTables.push(table);
      }
      const at = body + 1 + count * 2;
      const { intervals, end } = entropySegments(data, next);
      decodeScan(
        { components, tables: scanTables, predictor: data[at]!, pointTransform: data[at + 2]! & 0x0f, intervals },
        frame,
        restartInterval,
        samples,
      );
      i = end;
      continue;
    }
    i = next;
  }
  if (!frame || !samples) throw new JpegError('no frame');
  return {
    width: frame.width,
    height: frame.height,
    components: frame.componentIds.length,
    precision: frame.precision,
    samples,
  };
}

function decodeScan(scan: Scan, frame: Frame, restartInterval: number, out: Uint16Array): void {
  const { width, height, precision } = frame;
  const stride = frame.componentIds.length;
  const { predictor, pointTransform } = scan;
  if (predictor < 1 || predictor > 7) throw new JpegError(`predictor ${predictor}`);
  const initial = 1 << (precision - pointTransform - 1);
  // Restart intervals that start inside a line are legal but unseen in DICOM data: leave them to the other decoder.
  if (restartInterval > 0 && restartInterval % width !== 0) throw new JpegError('restart interval inside a line');
  if (stride === 1) {
    decodeSingle(scan, width, height, restartInterval > 0 ? restartInterval / width : height, initial, out);
  } else {
    decodeInterleaved(scan, frame, restartInterval, initial, out);
  }
  if (pointTransform > 0) {
    // Stored values were shifted right by Pt before coding (H.1.1): shift back, for the components of this scan.
    for (let at = 0; at < out.length; at += stride) {
      for (const c of scan.components) out[at + c] = (out[at + c]! << pointTransform) & 0xffff;
    }
  }
}

/** One grey component (the usual case): a row at a time, the predictor chosen once per row, not per sample. */
function decodeSingle(
  scan: Scan,
  width: number,
  height: number,
  rowsPerInterval: number,
  initial: number,
  out: Uint16Array,
): void {
  const table = scan.tables[0]!;
  const predictor = scan.predictor;
  let reader = new BitReader(scan.intervals[0] ?? new Uint8Array());
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const intervalStart = y % rowsPerInterval === 0;
    if (intervalStart && y > 0) reader = new BitReader(scan.intervals[y / rowsPerInterval] ?? new Uint8Array());
    // First sample: the initial value at the top of an interval, else the sample above (H.1.2.1).
    out[row] = ((intervalStart ? initial : out[row - width]!) + reader.difference(reader.decode(table))) & 0xffff;
    if (intervalStart || predictor === 1) {
      for (let x = 1; x < width; x++) {
        out[row + x] = (out[row + x - 1]! + reader.difference(reader.decode(table))) & 0xffff;
      }
      continue;
    }
    for (let x = 1; x < width; x++) {
      const at = row + x;
      const a = out[at - 1]!;
      const b = out[at - width]!;
      const c = out[at - width - 1]!;
      const prediction =
        predictor === 2
          ? b
          : predictor === 3
            ? c
            : predictor === 4
              ? a + b - c
              : predictor === 5
                ? a + ((b - c) >> 1)
                : predictor === 6
                  ? b + ((a - c) >> 1)
                  : (a + b) >> 1;
      out[at] = (prediction + reader.difference(reader.decode(table))) & 0xffff;
    }
  }
}

/** Several components: one MCU (a sample of each scan component) at a time. */
function decodeInterleaved(scan: Scan, frame: Frame, restartInterval: number, initial: number, out: Uint16Array): void {
  const { width, height } = frame;
  const stride = frame.componentIds.length;
  const { predictor } = scan;
  const mask = 0xffff;
  // Restart intervals count MCUs: one sample per scan component. Prediction restarts like the top of the image.
  const mcusPerInterval = restartInterval > 0 ? restartInterval : width * height;
  let interval = 0;
  let reader = new BitReader(scan.intervals[0] ?? new Uint8Array());
  let left = mcusPerInterval;
  let restartRow = 0;
  let restartColumn = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (left === 0) {
        interval++;
        reader = new BitReader(scan.intervals[interval] ?? new Uint8Array());
        left = mcusPerInterval;
        restartRow = y;
        restartColumn = x;
      }
      left--;
      const firstLine = y === restartRow || (y === restartRow + 1 && x < restartColumn);
      for (let s = 0; s < scan.components.length; s++) {
        const c = scan.components[s]!;
        const at = (y * width + x) * stride + c;
        let prediction: number;
        if (y === restartRow && x === restartColumn) prediction = initial;
        else if (firstLine) prediction = out[at - stride]!;
        else if (x === 0) prediction = out[at - width * stride]!;
        else {
          const a = out[at - stride]!;
          const b = out[at - width * stride]!;
          const cc = out[at - width * stride - stride]!;
          switch (predictor) {
            case 1:
              prediction = a;
              break;
            case 2:
              prediction = b;
              break;
            case 3:
              prediction = cc;
              break;
            case 4:
              prediction = a + b - cc;
              break;
            case 5:
              prediction = a + ((b - cc) >> 1);
              break;
            case 6:
              prediction = b + ((a - cc) >> 1);
              break;
            default:
              prediction = (a + b) >> 1;
          }
        }
        const difference = reader.difference(reader.decode(scan.tables[s]!));
        out[at] = (prediction + difference) & mask;
      }
    }
  }
}
