/**
 * The writer's output: small fields go byte by byte into a 64 KiB scratch (no DataView or array per field: a SEG's
 * thousands of per-frame items made that allocation the writer's main cost), large values are kept as they are,
 * deferred values as parts produced when written. Items used in several places are encoded once (writer.ts).
 */
import type { Dataset, DeferredValue } from './model.ts';

const SCRATCH_SIZE = 1 << 16;

/** Where the writer puts a file's bytes (writer.ts). */
export class ByteSink {
  private readonly chunks: Array<Uint8Array | DeferredValue> = [];
  length = 0;
  private scratch: Uint8Array;
  private used = 0;
  /** Items that occur more than once in the dataset being written, and the bytes of those already encoded. */
  shared: ReadonlySet<Dataset> = new Set();
  readonly encodedItems = new Map<Dataset, Uint8Array>();
  private childSink: ByteSink | undefined;
  /** Keep deferred values as they are (parts()) instead of reading them in. */
  constructor(
    readonly keepDeferred = false,
    scratchSize = SCRATCH_SIZE,
  ) {
    this.scratch = new Uint8Array(scratchSize);
  }

  /** Empty again (its scratch kept). */
  reset(): void {
    this.chunks.length = 0;
    this.used = 0;
    this.length = 0;
  }

  /** An empty sink for one shared item (reused: one per nesting level), sharing this sink's item cache. */
  child(): ByteSink {
    if (!this.childSink) {
      this.childSink = new ByteSink(false, 4096);
      this.childSink.shared = this.shared;
      (this.childSink as { encodedItems: Map<Dataset, Uint8Array> }).encodedItems = this.encodedItems;
    }
    this.childSink.reset();
    return this.childSink;
  }

  private flushScratch(): void {
    if (this.used > 0) {
      this.chunks.push(this.scratch.slice(0, this.used));
      this.used = 0;
    }
  }
  /** Room for `size` more bytes in the scratch; returns the offset to write at. */
  private reserve(size: number): number {
    if (this.used + size > this.scratch.length) this.flushScratch();
    const at = this.used;
    this.used += size;
    this.length += size;
    return at;
  }
  uint16(value: number): void {
    const at = this.reserve(2);
    const s = this.scratch;
    s[at] = value & 0xff;
    s[at + 1] = (value >>> 8) & 0xff;
  }
  uint32(value: number): void {
    const at = this.reserve(4);
    const s = this.scratch;
    s[at] = value & 0xff;
    s[at + 1] = (value >>> 8) & 0xff;
    s[at + 2] = (value >>> 16) & 0xff;
    s[at + 3] = (value >>> 24) & 0xff;
  }
  ascii(text: string): void {
    const at = this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.scratch[at + i] = text.charCodeAt(i);
  }
  bytes(value: Uint8Array): void {
    if (value.length <= 4096) {
      this.scratch.set(value, this.reserve(value.length));
      return;
    }
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.length;
  }
  /** A value left to be produced when written (see DataElement.deferred). */
  deferred(value: DeferredValue): void {
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.length;
  }
  /** The encoded bytes as written, in pieces (large values are not copied, deferred values not produced). */
  parts(): Array<Uint8Array | DeferredValue> {
    this.flushScratch();
    return this.chunks;
  }
  result(): Uint8Array {
    if (this.chunks.length === 0) return this.scratch.slice(0, this.used);
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      if (chunk instanceof Uint8Array) out.set(chunk, offset);
      else chunk.readInto(0, [out.subarray(offset, offset + chunk.length)]);
      offset += chunk.length;
    }
    return out;
  }
}
