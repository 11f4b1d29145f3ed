/**
 * Slices gzipped while a series is still being read (the converter's .nii.gz output). As each header-first file is
 * loaded, its native grey slice is read (rows flipped, as the volume holds it) and compressed on the libuv pool,
 * while this thread parses the next headers. Once the series is planned, a volume whose every slice was compressed
 * this way is written from those gzip members in slice order (`NiftiStream.adopt`); any other volume takes the
 * streaming path, as it would without this. Readers continue across concatenated members (RFC 1952 2.2), so the
 * file is the same image either way.
 *
 * Slices go into members a few at a time (~2 MiB): each gzip call costs this thread ~0.1 ms of stream set-up, as
 * much as reading a slice (members of one slice each took ~20 ms longer for 300 slices). A member holds
 * consecutive slices of one stack, in the order of their position along the slice normal (the order the volume
 * will have), guessed from the order they arrive in; a volume is adopted only when its plan confirms every member
 * is a run of consecutive slices in that order. Slices are read here (one read, then the rows flipped): vectored
 * reads on the pool straight into the flipped rows cost this thread as much in set-up and took more CPU in all.
 *
 * Bounded: a few members in flight (reused buffers), and at most `budgetBytes` of slices compressed ahead, so a
 * large study does not end up in memory (its later series simply stream).
 */
import type { PixelArray } from '../core/codecs/index.ts';
import type { DicomFile } from '../core/dicom/model.ts';
import { dot } from '../core/geometry/affine.ts';
import { sliceNormal } from '../core/geometry/stack.ts';
import {
  type NativeSlice,
  nativeSliceOf,
  type PixelArrayConstructor,
  type PlannedVolume,
} from '../core/volume/index.ts';
import { seriesIdentity } from '../core/volume/records.ts';
import { asBytes, gzipMember } from './nifti-stream.ts';

/** Slices smaller than this are not worth compressing ahead (they convert fast anyway). */
const MIN_SLICE_BYTES = 128 * 1024;
/** Uncompressed bytes per member (whole slices; at least one). */
const MEMBER_BYTES = 2 * 1024 * 1024;
/** Members being read or compressed at once. */
const IN_FLIGHT = 4;
const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;

/** Consecutive slices of one stack becoming one gzip member. */
interface Member {
  type: PixelArrayConstructor;
  elements: number;
  sliceBytes: number;
  buffer: PixelArray;
  capacity: number;
  /** Files of the slots in use, in slot order (= position order); `descending` fills slots from the end. */
  files: DicomFile[];
  descending: boolean;
  /** Set when closed (unless a slice failed to read): the compressed bytes, and the largest voxel of uint16 data. */
  compressed?: Promise<Uint8Array>;
  max: number;
  failed: boolean;
}

/** What is known of a stack so far: the last slice's position along the slice normal, the direction of the run. */
interface Stack {
  last: number;
  direction: 0 | 1 | -1;
  /** The member being filled. */
  open?: Member;
  /** The first slice, held back until the second one tells the direction. */
  pending?: { file: DicomFile; slice: NativeSlice };
}

export interface AdoptableVolume {
  type: PixelArrayConstructor;
  sliceElements: number;
  sliceCount: number;
  members: Uint8Array[];
  uint16Max: number;
}

export class SliceCompressor {
  private readonly stacks = new Map<string, Stack>();
  private readonly memberOf = new Map<DicomFile, Member>();
  private readonly running: Array<Promise<unknown>> = [];
  private readonly spare: PixelArray[] = [];
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
    if (!slice || slice.bytes < MIN_SLICE_BYTES || slice.bytes > this.budget) return;
    const ds = file.dataset;
    const position = ds.numbers('ImagePositionPatient');
    const orientation = ds.numbers('ImageOrientationPatient');
    if (position.length < 3 || orientation.length < 6 || ![...position, ...orientation].every(Number.isFinite)) return;
    // The volume orders slices along this normal (core/volume/assemble.ts positionsOf).
    const normal = sliceNormal({
      rowCosines: [orientation[0]!, orientation[1]!, orientation[2]!],
      columnCosines: [orientation[3]!, orientation[4]!, orientation[5]!],
    });
    const at = dot(normal, [position[0]!, position[1]!, position[2]!]);
    const key = [
      seriesIdentity(file),
      slice.type.name,
      slice.elements,
      ds.number('Rows'),
      orientation.map((value) => value.toFixed(4)).join('\\'),
      ds.string('EchoNumbers') ?? '',
      ds.strings('ImageType').join('\\'),
    ].join('|');
    let stack = this.stacks.get(key);
    if (!stack) {
      stack = { last: at, direction: 0, pending: { file, slice } };
      this.stacks.set(key, stack);
      return;
    }
    const step = Math.sign(at - stack.last);
    const pending = stack.pending;
    if (pending) {
      stack.pending = undefined;
      stack.direction = step >= 0 ? 1 : -1;
      await this.add(stack, pending.file, pending.slice);
    } else if (step !== 0 && step !== stack.direction) {
      // The run turned back (a new time point, or files out of order): this member ends here.
      this.close(stack);
    }
    stack.last = at;
    await this.add(stack, file, slice);
  }

  private async add(stack: Stack, file: DicomFile, slice: NativeSlice): Promise<void> {
    let member = stack.open;
    if (member && (member.type !== slice.type || member.elements !== slice.elements)) {
      this.close(stack);
      member = undefined;
    }
    if (!member) {
      if (slice.bytes > this.budget) return;
      while (this.running.length >= IN_FLIGHT) await this.running.shift();
      const capacity = Math.max(1, Math.floor(MEMBER_BYTES / slice.bytes));
      member = {
        type: slice.type,
        elements: slice.elements,
        sliceBytes: slice.bytes,
        buffer: this.takeBuffer(slice.type, slice.elements * capacity),
        capacity,
        files: [],
        descending: stack.direction < 0,
        max: 0,
        failed: false,
      };
      this.budget -= slice.bytes * capacity;
      stack.open = member;
    }
    const slot = member.descending ? member.capacity - 1 - member.files.length : member.files.length;
    if (member.descending) member.files.unshift(file);
    else member.files.push(file);
    this.memberOf.set(file, member);
    try {
      slice.readInto(member.buffer.subarray(slot * slice.elements, (slot + 1) * slice.elements));
    } catch {
      member.failed = true; // the streaming path reads it again and reports the error with its file
    }
    if (member.files.length === member.capacity) this.close(stack);
  }

  /** Compress the stack's open member (the slots in use) on the thread pool; it takes no more slices. */
  private close(stack: Stack): void {
    const member = stack.open;
    stack.open = undefined;
    if (!member) return;
    const used = member.files.length * member.elements;
    const first = member.descending ? member.capacity * member.elements - used : 0;
    const slices = member.buffer.subarray(first, first + used);
    // A member with a slice that could not be read is never compressed nor adopted (see adoptable).
    if (member.failed) {
      this.spare.push(member.buffer);
      return;
    }
    if (slices instanceof Uint16Array) {
      let max = 0;
      for (let i = 0; i < slices.length; i++) if (slices[i]! > max) max = slices[i]!;
      member.max = max;
    }
    member.compressed = gzipMember(asBytes(slices), this.level);
    member.compressed.catch(() => {}); // awaited in adoptable, where a failure means streaming the volume
    const done = member.compressed.then(
      () => this.spare.push(member.buffer),
      () => this.spare.push(member.buffer),
    );
    this.running.push(done);
  }

  /** A free buffer of that type and length (members of a series are all alike), else a new one. */
  private takeBuffer(type: PixelArrayConstructor, elements: number): PixelArray {
    const at = this.spare.findIndex((buffer) => buffer.constructor === type && buffer.length === elements);
    return at >= 0 ? this.spare.splice(at, 1)[0]! : new type(elements);
  }

  /**
   * The volume's members in slice order, when every slice was compressed ahead with one array type, the plan keeps
   * stored values, and every member is a run of consecutive slices of the volume in its order; undefined (decided
   * now) otherwise. The promise gives undefined when a member failed. Either way the caller streams the volume when
   * it gets no members, and the volume's slices are forgotten here.
   */
  adoptable(
    planned: PlannedVolume,
    files: ReadonlyMap<string | undefined, DicomFile>,
  ): Promise<AdoptableVolume | undefined> | undefined {
    // Open members are compressed now (closing one does not wait). A slice still held back is the only one of its
    // stack: that volume streams.
    for (const stack of this.stacks.values()) {
      stack.pending = undefined;
      this.close(stack);
    }
    const order = planned.volume.slices.flat().map((slice) => files.get(slice.source));
    const members = order.map((file) => (file ? this.memberOf.get(file) : undefined));
    const seen = new Set<Member>();
    for (const member of members) {
      if (!member || seen.has(member)) continue;
      seen.add(member);
      for (const file of member.files) this.memberOf.delete(file);
      this.budget += member.sliceBytes * member.capacity;
    }
    const first = members[0];
    if (!planned.storedValues || !first) return undefined;
    // Members in volume order, each a run of consecutive slices in the volume's order.
    const ordered: Member[] = [];
    for (let index = 0; index < order.length; ) {
      const member = members[index];
      if (!member?.compressed || member.type !== first.type || member.elements !== first.elements) return undefined;
      for (const [offset, file] of member.files.entries()) if (order[index + offset] !== file) return undefined;
      ordered.push(member);
      index += member.files.length;
    }
    // Every member is closed (above): wait for them to compress.
    return Promise.all(ordered.map((member) => member.compressed!)).then(
      (compressed) => ({
        type: first.type,
        sliceElements: first.elements,
        sliceCount: order.length,
        members: compressed,
        uint16Max: ordered.reduce((max, member) => Math.max(max, member.max), 0),
      }),
      () => undefined,
    );
  }
}
