/**
 * Slices gzipped while a series is still being read (the converter's .nii.gz output): as each header-first file is
 * loaded, its one native grey slice is read (rows flipped, as the volume holds it) and compressed on the libuv pool
 * as its own gzip member, on the other CPU, while this thread parses the next headers. Once the series is planned,
 * a volume whose every slice was compressed this way is written from the members in slice order
 * (`NiftiStream.adopt`); any other volume takes the streaming path, as it would without this. Readers continue across
 * concatenated members (RFC 1952 2.2), so the file is the same image either way.
 *
 * Bounded: a few slices in flight (reused buffers), and at most `budgetBytes` of slices compressed ahead, so a large
 * study does not end up in memory (its later series simply stream).
 */
import type { PixelArray } from '../core/codecs/index.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { nativeSliceOf, type PixelArrayConstructor, type PlannedVolume } from '../core/volume/index.ts';
import { asBytes, gzipMember } from './nifti-stream.ts';

/** Slices smaller than this are not worth a member each (per-member overhead, and they convert fast anyway). */
const MIN_SLICE_BYTES = 128 * 1024;
/** Slices compressing at once. */
const IN_FLIGHT = 6;
const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;

interface CompressedSlice {
  type: PixelArrayConstructor;
  elements: number;
  /** Uncompressed size, counted against the budget while the slice is held. */
  bytes: number;
  member: Promise<Uint8Array>;
  /** Largest voxel of a Uint16Array slice (the NIfTI stores unsigned data that fits as int16). */
  max: number;
}

export interface AdoptableVolume {
  type: PixelArrayConstructor;
  sliceElements: number;
  members: Uint8Array[];
  uint16Max: number;
}

export class SliceCompressor {
  private readonly slices = new Map<DicomFile, CompressedSlice>();
  private readonly spare: PixelArray[] = [];
  private readonly running: Array<Promise<unknown>> = [];
  private budget: number;

  constructor(
    private readonly level: number,
    budgetBytes = DEFAULT_BUDGET_BYTES,
  ) {
    this.budget = budgetBytes;
  }

  /** Start on `file`'s slice when it is a plain native grey slice and the budget allows; resolves when it may go on. */
  async offer(file: DicomFile): Promise<void> {
    const slice = nativeSliceOf(file);
    if (!slice) return;
    const { bytes } = slice;
    if (bytes < MIN_SLICE_BYTES || bytes > this.budget) return;
    while (this.running.length >= IN_FLIGHT) await this.running.shift();
    this.budget -= bytes;
    const buffer = this.takeBuffer(slice.type, slice.elements);
    try {
      slice.readInto(buffer);
    } catch {
      this.budget += bytes;
      this.spare.push(buffer);
      return; // the streaming path reads it again and reports the error with its file
    }
    let max = 0;
    if (buffer instanceof Uint16Array) for (let i = 0; i < buffer.length; i++) if (buffer[i]! > max) max = buffer[i]!;
    const member = gzipMember(asBytes(buffer), this.level);
    const done = member.then(
      () => this.spare.push(buffer),
      () => this.spare.push(buffer),
    );
    member.catch(() => {}); // a failed member is never adopted (see adoptable)
    this.running.push(done);
    this.slices.set(file, { type: slice.type, elements: slice.elements, bytes, member, max });
  }

  /** A free slice buffer of that type and size (they are all the same size in a typical series), else a new one. */
  private takeBuffer(type: PixelArrayConstructor, elements: number): PixelArray {
    const at = this.spare.findIndex((buffer) => buffer.constructor === type && buffer.length === elements);
    return at >= 0 ? this.spare.splice(at, 1)[0]! : new type(elements);
  }

  /**
   * The volume's members in slice order, when every slice was compressed ahead with one array type and the plan
   * keeps stored values; undefined (decided now) otherwise. The promise gives undefined when a member failed. Either
   * way the caller streams the volume when it gets no members, and the volume's slices are forgotten here.
   */
  adoptable(
    planned: PlannedVolume,
    files: ReadonlyMap<string | undefined, DicomFile>,
  ): Promise<AdoptableVolume | undefined> | undefined {
    const sources = planned.volume.slices.flat().map((slice) => files.get(slice.source));
    const slices = sources.map((file) => (file ? this.slices.get(file) : undefined));
    for (const [index, file] of sources.entries()) {
      if (!file || !slices[index]) continue;
      this.slices.delete(file);
      this.budget += slices[index].bytes;
    }
    const first = slices[0];
    if (!planned.storedValues || !first) return undefined;
    if (!slices.every((slice) => slice && slice.type === first.type && slice.elements === first.elements)) {
      return undefined;
    }
    let uint16Max = 0;
    for (const slice of slices) uint16Max = Math.max(uint16Max, slice!.max);
    return Promise.all(slices.map((slice) => slice!.member)).then(
      (members) => ({ type: first.type, sliceElements: first.elements, members, uint16Max }),
      () => undefined,
    );
  }
}
