/**
 * writeFileAtomic with parts: byte parts and values produced on demand (a DICOM writer's deferred Pixel Data)
 * land in order, a value larger than the write chunk included; a failing producer leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DeferredValue, deferredValue } from '../../src/core/dicom/model.ts';
import { isMedvoxError } from '../../src/core/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';

/** Byte i of the value is (i * 7 + seed) & 0xff, produced only when asked. */
function produced(length: number, seed: number, calls: number[] = []): DeferredValue {
  const readInto = (offset: number, targets: readonly Uint8Array[]): void => {
    calls.push(offset);
    let at = offset;
    for (const target of targets) for (let i = 0; i < target.length; i++) target[i] = (at++ * 7 + seed) & 0xff;
  };
  return deferredValue(length, readInto);
}

test('parts and produced values are written in order; a large value is produced a chunk at a time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-atomic-'));
  try {
    const calls: number[] = [];
    const big = produced(9 * 1024 * 1024 + 3, 1, calls);
    const small = produced(5, 2);
    const parts = [new Uint8Array([1, 2, 3]), big, new Uint8Array([4]), small, new Uint8Array([5, 6])];
    const path = join(dir, 'out.bin');
    await writeFileAtomic(path, parts);
    const expected = Buffer.concat([
      parts[0] as Uint8Array,
      big.read(),
      parts[2] as Uint8Array,
      small.read(),
      parts[4] as Uint8Array,
    ]);
    assert.ok(readFileSync(path).equals(expected));
    assert.ok(calls.length > 1, 'produced in several chunks');
    assert.deepEqual(readdirSync(dir), ['out.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a value that cannot be produced: IO_ERROR naming the file, no file left behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-atomic-'));
  try {
    const failing: DeferredValue = {
      length: 10,
      readInto: () => {
        throw new Error('gone');
      },
      read: () => new Uint8Array(10),
    };
    const path = join(dir, 'out.bin');
    await assert.rejects(
      writeFileAtomic(path, [new Uint8Array(4), failing]),
      (error: unknown) => isMedvoxError(error) && error.code === 'IO_ERROR' && error.file === path,
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mostly-zero value is written as its non-zero ranges and holes: the same bytes, fewer blocks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-atomic-'));
  try {
    // 12 MiB of zeros but for 400 ranges of 3,000 bytes (some overlapping, one at the very start, none at the end).
    const length = 12 * 1024 * 1024;
    const ranges: Array<[number, number]> = [[0, 100]];
    for (let n = 1; n < 400; n++) ranges.push([n * 30_000, n * 30_000 + 3_000]);
    ranges.push([399 * 30_000 + 2_000, 399 * 30_000 + 5_000]);
    const dense = new Uint8Array(length);
    for (const [start, end] of ranges) for (let i = start; i < end; i++) dense[i] = (i % 251) + 1;
    const value = deferredValue(
      length,
      (offset, targets) => {
        let at = offset;
        for (const target of targets) {
          target.set(dense.subarray(at, at + target.length));
          at += target.length;
        }
      },
      { nonZeroRanges: () => ranges },
    );
    const header = new Uint8Array([9, 8, 7]);
    const path = join(dir, 'sparse.bin');
    await writeFileAtomic(path, [header, value]);
    assert.ok(readFileSync(path).equals(Buffer.concat([header, dense])));
    assert.equal(statSync(path).size, length + 3);
    // Where the file system keeps holes (ext4, xfs, btrfs, tmpfs do), the zeros took no blocks.
    const probe = join(dir, 'probe.bin');
    await writeFileAtomic(probe, [
      deferredValue(
        1 << 20,
        (_, targets) => {
          for (const target of targets) target.fill(0);
        },
        { nonZeroRanges: () => [] },
      ),
    ]);
    if (statSync(probe).blocks * 512 < 1 << 20) assert.ok(statSync(path).blocks * 512 < length / 2, 'holes');
    assert.deepEqual(readdirSync(dir).sort(), ['probe.bin', 'sparse.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
