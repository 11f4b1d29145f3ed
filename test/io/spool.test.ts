/** The spool gives back exactly the text appended to it: across its in-memory chunks, and once spilled to its file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from '../../src/io/spool.ts';

async function roundTrip(rows: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-spool-'));
  const spool = new Spool(join(dir, 'part'));
  try {
    for (const row of rows) {
      const written = spool.append(row);
      if (written !== undefined) await written;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of spool.read()) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await spool.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rows spanning several in-memory chunks come back in order, byte for byte', async () => {
  // ~3 MiB of rows of varied length and non-ASCII text: several 1 MiB chunks, below the 8 MiB spill.
  const rows = Array.from({ length: 6000 }, (_, i) => `<row r="${i}">${'é€x'.repeat(i % 200)}</row>`);
  assert.equal(await roundTrip(rows), rows.join(''));
});

test('past 8 MiB the spool spills to its file and still gives back every row', async () => {
  const rows = Array.from({ length: 2500 }, (_, i) => `${i}:${'a'.repeat(4000)}|`);
  rows.push('z'.repeat(3 << 20), 'tail');
  assert.equal(await roundTrip(rows), rows.join(''));
});

test('each in-memory chunk is offered as it fills, and read gives back those very arrays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-spool-'));
  const offered: Uint8Array[] = [];
  const spool = new Spool(join(dir, 'part'), (chunk) => offered.push(chunk));
  try {
    // ~3.5 MiB: three full 1 MiB chunks and a partial one, which is never offered (it may still grow).
    for (let i = 0; i < 3500; i++) assert.equal(spool.append(`${String(i).padStart(1023, '.')}\n`), undefined);
    const read: Uint8Array[] = [];
    for await (const chunk of spool.read()) read.push(chunk);
    assert.equal(offered.length, 3);
    assert.equal(read.length, 4);
    for (const [i, chunk] of offered.entries()) assert.equal(read[i], chunk, `chunk ${i} is the offered array`);
    assert.equal(Buffer.concat(read).length, 3500 * 1024);
  } finally {
    await spool.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
