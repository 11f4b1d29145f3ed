/**
 * ZIP entries written as independently deflated pieces (some compressed ahead, as the workbook's sheets are) read
 * back byte for byte with an independent reader (Python's zipfile, which checks every CRC).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deflatePiece, ZipWriter } from '../../src/io/zip-writer.ts';
import { python, requirePeers } from '../support/env.ts';

const dir = mkdtempSync(join(tmpdir(), 'medvox-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('entries of many pieces, compressed ahead or not, read back with their CRCs in Python zipfile', async (t) => {
  if (!requirePeers(t)) return;
  const path = join(dir, 'pieces.zip');
  const text = Array.from({ length: 20000 }, (_, i) => `<row r="${i}"><c>${'é€x'.repeat(i % 50)}</c></row>`).join('');
  const textBytes = Buffer.from(text, 'utf8');
  // Text in uneven pieces; every other one compressed before the entry is written.
  const pieces: Uint8Array[] = [];
  for (let at = 0, size = 1; at < textBytes.length; at += size, size = size * 3 + 7) {
    pieces.push(textBytes.subarray(at, Math.min(textBytes.length, at + size)));
  }
  const ahead = new Map(pieces.filter((_, i) => i % 2 === 1).map((piece) => [piece, deflatePiece(piece)]));
  const noise = randomBytes(3 << 20); // incompressible: stored blocks inside a piece
  const handle = await open(path, 'w');
  const zip = new ZipWriter(handle, path);
  await zip.addEntry('a/text.xml', ['<head>', ...pieces, '</head>'], (chunk) => ahead.get(chunk));
  await zip.addEntry('noise.bin', [noise.subarray(0, 1 << 20), noise.subarray(1 << 20)]);
  await zip.addEntry('empty.txt', []);
  await zip.finish();
  await handle.close();
  const listing = python(
    `import hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for info in z.infolist():
    print(info.filename, info.file_size, hashlib.sha256(z.read(info)).hexdigest())`,
    [path],
  );
  const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const expected = [
    `a/text.xml ${textBytes.length + 13} ${sha(Buffer.concat([Buffer.from('<head>'), textBytes, Buffer.from('</head>')]))}`,
    `noise.bin ${noise.length} ${sha(noise)}`,
    `empty.txt 0 ${sha(new Uint8Array(0))}`,
  ];
  assert.deepEqual(listing.trim().split('\n'), expected);
});
