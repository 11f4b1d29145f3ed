/**
 * The reference grid of a segmentation from what a user names (io/reference-series.ts): headers read as indexes
 * into one reused buffer, each file's planes taken before the next read. The grid must equal the one built from the
 * fully parsed files (core/seg/reference.ts referenceGrid over the loader's files): for a folder with other files in
 * it, a zip of it, two series, a DICOMDIR (which goes through the loader) and every corpus series. One difference,
 * on purpose: a file whose Pixel Data is cut still gives its plane (the headers are whole; a SEG needs no pixels).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDicom } from '../../src/core/dicom/writer.ts';
import { isMedvoxError } from '../../src/core/errors.ts';
import { makePhantomSeries } from '../../src/core/phantom/index.ts';
import { type ReferenceGrid, referenceGrid } from '../../src/core/seg/reference.ts';
import { loadDicomInputs } from '../../src/io/load-dicom.ts';
import { loadReferenceGrid } from '../../src/io/reference-series.ts';
import { corpus, corpusSeriesFolders, requirePeers } from '../support/env.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-reference-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A phantom series written with names that do not sort in slice order; returns its folder. */
function writeSeries(folder: string, seed: string, slices = 9): string {
  mkdirSync(folder, { recursive: true });
  const files = makePhantomSeries({ rows: 24, columns: 20, slices, modality: 'CT', seed, orientation: 'sagittal' });
  for (const [index, file] of files.entries()) {
    writeFileSync(join(folder, `${seed}-${(index * 7) % slices}-${index}.dcm`), writeDicom(file));
  }
  return folder;
}

/** The grid of the loader's fully parsed files (the model path). */
async function parsedGrid(inputs: string[], seriesInstanceUID?: string): Promise<ReferenceGrid> {
  const loaded = await loadDicomInputs(inputs, { deferPixelData: true });
  return referenceGrid(loaded.files, { seriesInstanceUID });
}

function assertSameGrid(actual: ReferenceGrid, expected: ReferenceGrid): void {
  const { first: firstActual, ...restActual } = actual;
  const { first: firstExpected, ...restExpected } = expected;
  assert.deepEqual(restActual, restExpected);
  assert.equal(firstActual.source, firstExpected.source);
  assert.deepEqual([...firstActual.dataset.keys()], [...firstExpected.dataset.keys()]);
  assert.deepEqual(firstActual.dataset.strings('PatientName'), firstExpected.dataset.strings('PatientName'));
}

test('a folder: the same grid as from the parsed files; other files skipped, a damaged one a warning', async () => {
  const folder = writeSeries(join(scratch, 'one'), 'one');
  const expected = await parsedGrid([folder]);
  writeFileSync(join(folder, 'notes.txt'), 'not DICOM\n');
  // A DICOM file cut inside its header.
  const whole = writeDicom(makePhantomSeries({ rows: 24, columns: 20, slices: 2, seed: 'cut' })[0]!);
  writeFileSync(join(folder, 'cut.dcm'), whole.subarray(0, 300));
  const { grid, warnings } = await loadReferenceGrid(folder);
  assertSameGrid(grid, expected);
  assert.equal(grid.slices.length, 9);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /cut\.dcm/);
  // The first slice (lowest along the normal) is the one whose attributes a SEG copies.
  assert.deepEqual(grid.first.dataset.numbers('ImagePositionPatient'), grid.slices[0]!.position);
});

test('a zip of the folder gives the same grid', async (t) => {
  if (!requirePeers(t, 'zip')) return;
  const folder = writeSeries(join(scratch, 'zipped'), 'zipped');
  const zip = join(scratch, 'zipped.zip');
  execFileSync('zip', ['-q', '-r', zip, '.'], { cwd: folder });
  const { grid, warnings } = await loadReferenceGrid(zip);
  const fromFolder = (await loadReferenceGrid(folder)).grid;
  assert.deepEqual(warnings, []);
  const { first, ...rest } = grid;
  const { first: folderFirst, ...folderRest } = fromFolder;
  assert.deepEqual(rest, folderRest);
  assert.match(first.source ?? '', /zipped\.zip!\//);
  assert.deepEqual(first.dataset.numbers('ImagePositionPatient'), folderFirst.dataset.numbers('ImagePositionPatient'));
});

test('two series: a typed error naming both, or the one asked for', async () => {
  const a = writeSeries(join(scratch, 'two', 'a'), 'series-a', 5);
  writeSeries(join(scratch, 'two', 'b'), 'series-b', 7);
  const both = join(scratch, 'two');
  await assert.rejects(loadReferenceGrid(both), (error: unknown) => {
    assert.ok(isMedvoxError(error) && error.code === 'GEOMETRY_INCONSISTENT');
    assert.match(
      error.message,
      /2 image stacks: .*\(5 slices\); .*\(7 slices\)|2 image stacks: .*\(7 slices\); .*\(5 slices\)/,
    );
    return true;
  });
  const wanted = (await loadReferenceGrid(a)).grid.seriesInstanceUID!;
  const { grid } = await loadReferenceGrid(both, { seriesInstanceUID: wanted });
  assertSameGrid(grid, await parsedGrid([both], wanted));
  assert.equal(grid.slices.length, 5);
});

test('a DICOMDIR names its files: the series asked for, as from its folder', async (t) => {
  if (!requirePeers(t)) return;
  const root = corpus('curation/pydicom_dicomdir_tree');
  const folder = (await loadReferenceGrid(`${root}/77654033`)).grid;
  const { grid } = await loadReferenceGrid(`${root}/DICOMDIR`, { seriesInstanceUID: folder.seriesInstanceUID });
  assertSameGrid(grid, folder);
  assert.deepEqual(grid.dims, [16, 16, 4]);
});

test('every corpus series: the same grid, warnings and errors as from the parsed files', async (t) => {
  if (!requirePeers(t)) return;
  const outcome = async (run: () => Promise<{ grid: ReferenceGrid; warnings: string[] }>) => {
    try {
      const { grid, warnings } = await run();
      const { first, ...rest } = grid;
      return { rest, first: first.source, warnings: warnings.length };
    } catch (error) {
      assert.ok(isMedvoxError(error), String(error));
      return { code: error.code, message: error.message };
    }
  };
  const folders = [...corpusSeriesFolders()];
  let grids = 0;
  for (const folder of folders) {
    const indexed = await outcome(() => loadReferenceGrid(folder));
    const parsed = await outcome(async () => {
      const loaded = await loadDicomInputs([folder], { deferPixelData: true });
      if (loaded.files.length === 0) throw new Error('no file');
      return {
        grid: referenceGrid(loaded.files, { source: folder }),
        warnings: loaded.failed.map((e) => e.describe()),
      };
    });
    assert.deepEqual(indexed, parsed, folder);
    if ('rest' in indexed) grids++;
  }
  assert.ok(grids >= 10, `${grids} grids of ${folders.length} folders`);
});

test('a slice whose Pixel Data is cut still gives its plane: a SEG needs the headers only', async () => {
  const folder = writeSeries(join(scratch, 'cut-pixels'), 'cut-pixels', 6);
  const intact = (await loadReferenceGrid(folder)).grid;
  const victim = join(folder, readdirSync(folder).sort()[2]!);
  const bytes = readFileSync(victim);
  writeFileSync(victim, bytes.subarray(0, bytes.length - 200));
  // The loader reads the whole value, so it reports the file (and its grid would lack the slice).
  const loaded = await loadDicomInputs([folder], { deferPixelData: true });
  assert.equal(loaded.failed.length, 1);
  const { grid, warnings } = await loadReferenceGrid(folder);
  assert.deepEqual(warnings, []);
  const { first, ...rest } = grid;
  const { first: intactFirst, ...intactRest } = intact;
  assert.deepEqual(rest, intactRest);
  assert.equal(first.source, intactFirst.source);
});

test('two slices at one position (a 4D series): a typed error naming one of their files', async () => {
  const folder = join(scratch, 'four-d');
  writeSeries(folder, 'four-d', 4);
  // The same series again under other names: every position twice.
  writeSeries(join(folder, 'again'), 'four-d', 4);
  for (const run of [() => loadReferenceGrid(folder), () => parsedGrid([folder])]) {
    await assert.rejects(run(), (error: unknown) => {
      assert.ok(isMedvoxError(error) && error.code === 'GEOMETRY_INCONSISTENT', String(error));
      assert.match(error.message, /share a position/);
      assert.match(error.file ?? '', /four-d-\d-\d\.dcm$/);
      return true;
    });
  }
});
