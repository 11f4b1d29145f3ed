import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { listInputs, scanInputs } from '../../src/io/scan.ts';
import { hasCommand } from '../support/env.ts';

/** A zip made by Python's zipfile (`entries`: Python statements writing to the ZipFile `z`). */
function pythonZip(zip: string, entries: string): void {
  execFileSync('python3', [
    '-c',
    `import zipfile,sys
z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)
${entries}
z.close()`,
    zip,
  ]);
}

async function collect(inputs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const file of scanInputs(inputs)) out.set(file.name, Buffer.from(await file.read()).toString());
  return out;
}

test('scanInputs walks folders recursively in sorted order and skips hidden files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-scan-'));
  try {
    mkdirSync(join(dir, 'b', 'c'), { recursive: true });
    writeFileSync(join(dir, 'b', 'c', '2'), 'two');
    writeFileSync(join(dir, 'a'), 'one');
    writeFileSync(join(dir, '.hidden'), 'no');
    const files = await collect([dir]);
    assert.deepEqual([...files.keys()], [join(dir, 'a'), join(dir, 'b', 'c', '2')]);
    assert.equal(files.get(join(dir, 'a')), 'one');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scanInputs reads zip entries without extracting them', async (t) => {
  if (!hasCommand('python3')) return t.skip('python3 needed to build the zip');
  const dir = mkdtempSync(join(tmpdir(), 'medvox-scan-'));
  try {
    const zip = join(dir, 'series.zip');
    pythonZip(zip, `z.writestr('s/IM1','x'*5000); z.writestr('s/IM2','y'); z.writestr('__MACOSX/s/._IM1','junk')`);
    const files = await collect([zip]);
    assert.deepEqual([...files.keys()], [`${zip}!/s/IM1`, `${zip}!/s/IM2`]);
    assert.equal(files.get(`${zip}!/s/IM1`), 'x'.repeat(5000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scanInputs names a missing input and a corrupt zip in typed errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medvox-scan-'));
  try {
    await assert.rejects(collect([join(dir, 'nope')]), { code: 'IO_ERROR', file: join(dir, 'nope') });
    writeFileSync(join(dir, 'bad.zip'), 'this is not a zip');
    await assert.rejects(collect([join(dir, 'bad.zip')]), { code: 'IO_ERROR', file: join(dir, 'bad.zip') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listInputs: zip entries read after the listing, in any order, and again once the idle archive was closed', async (t) => {
  if (!hasCommand('python3')) return t.skip('python3 needed to build the zip');
  const dir = mkdtempSync(join(tmpdir(), 'medvox-scan-'));
  try {
    const zip = join(dir, 'series.zip');
    pythonZip(zip, `for i in range(5): z.writestr('s/IM%d' % i, chr(97 + i) * (1000 * (i + 1)))`);
    const files = await listInputs([zip]);
    assert.deepEqual(
      files.map((file) => file.name),
      [0, 1, 2, 3, 4].map((i) => `${zip}!/s/IM${i}`),
    );
    const text = async (i: number) => Buffer.from(await files[i]!.read()).toString();
    const expected = (i: number) => String.fromCharCode(97 + i).repeat(1000 * (i + 1));
    for (const i of [4, 0, 2]) assert.equal(await text(i), expected(i));
    // Read together, then after the archive went idle (closed) and is opened again.
    assert.deepEqual(await Promise.all([1, 3].map(text)), [expected(1), expected(3)]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(await text(3), expected(3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
