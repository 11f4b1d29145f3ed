/**
 * The workbench in Chromium: a corpus CT series + SEG uploaded through the page, progress to completion, the
 * viewer stepping slices, a window preset, a label toggled off and on (the pixels under the label change colour,
 * checked against the server's labelmap); a NIfTI image + mask with its labels listed and drawn; the asymmetric
 * phantom's marker in the expected corner of all three views. No console errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apply, invert } from '../../src/core/geometry/affine.ts';
import { phantomMarkers } from '../../src/core/phantom/index.ts';
import { readNiftiFile } from '../../src/io/nifti-file.ts';
import {
  buildWeb,
  type CanvasPixels,
  canvasPixels,
  colouredPixels,
  distinctColours,
  launchChromium,
  openPage,
  requireChromium,
  samePixels,
  waitForVolume,
} from '../support/browser.ts';
import { corpus, hasCorpus, inCI } from '../support/env.ts';
import { jobEvents, startTestServer, type TestServer } from '../support/server.ts';

const CT = corpus('seg', 'dcmqi_liver_ct3', 'source_ct');
const SEG = corpus('seg', 'dcmqi_liver_ct3', 'seg', 'liver.dcm');
const NIFTI = corpus('nifti', 'totalseg_ct_small_multilabel');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const shots = mkdtempSync(join(tmpdir(), 'medvox-web-shots-'));

let server: TestServer;
let browser: Browser | undefined;

before(async () => {
  buildWeb();
  server = await startTestServer({ demo: true });
  if (server.demoJob) await jobEvents(server.url, server.demoJob);
  browser = await launchChromium().catch((error: Error) => {
    if (inCI) throw error;
    return undefined;
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  console.log(`screenshots: ${shots}`);
});

function ready(t: import('node:test').TestContext, corpusNeeded = true): boolean {
  if (!requireChromium(t)) return false;
  if (corpusNeeded && !hasCorpus()) {
    if (inCI) throw new Error('corpus missing (set MEDVOX_CORPUS)');
    t.skip('corpus missing');
    return false;
  }
  return browser !== undefined;
}

/** Record every progress text the upload list shows (transfer, job steps), from before the upload starts. */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      for (const step of document.querySelectorAll('.upload-step')) {
        const text = step.textContent ?? '';
        if (seen.at(-1) !== text) seen.push(text);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function uploadAndOpen(page: Page): Promise<void> {
  // Progress is seen (transfer or job steps), then completion and the link to the viewer.
  await page.waitForSelector('[data-phase="uploading"], [data-phase="processing"], [data-phase="done"]');
  await page.waitForSelector('[data-phase="done"], [data-phase="failed"]', { timeout: 120_000 });
  const failed = await page.locator('[data-phase="failed"]').count();
  assert.equal(failed, 0, await page.locator('.uploads').innerText());
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  assert.ok(
    seen.some((text) => /^Sending|^\d+% · /.test(text)),
    `progress shown before completion: ${JSON.stringify(seen)}`,
  );
  assert.match(seen.at(-1)!, /Stored/);
  await page.click('[data-testid="open-viewer"]');
  await waitForVolume(page);
}

async function sliceText(page: Page, view: string): Promise<string> {
  return (await page.locator(`[data-testid="slice-${view}"]`).innerText()).split('\n')[0]!;
}

async function withLabels(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="labels"] input[type="checkbox"]');
  // The overlay is drawn after its labelmap arrives: wait for a frame after the list appears.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

test('a CT series + SEG uploaded through the page: progress, viewer, slices, preset, label toggle', async (t) => {
  if (!ready(t)) return;
  const { page, errors } = await openPage(browser!);
  await page.goto(`${server.url}/#/upload`);
  await watchProgress(page);
  const files = [...readdirSync(CT).map((name) => join(CT, name)), SEG];
  await page.setInputFiles('[data-testid="dicom-files"]', files);
  await uploadAndOpen(page);
  await withLabels(page);
  assert.match(await page.locator('[data-testid="labels"]').innerText(), /liver/i);
  await page.screenshot({ path: join(shots, 'ct-viewer.png') });

  // Not blank: many grey levels in each view.
  for (const view of ['axial', 'coronal', 'sagittal']) {
    const pixels = await canvasPixels(page, view);
    assert.ok(distinctColours(pixels) > 50, `${view} view is blank`);
  }

  // Slices: keys, Next, Prev (3 slices: middle = 2 / 3).
  assert.equal(await sliceText(page, 'axial'), 'axial 2 / 3');
  await page.click('[data-testid="viewport-axial"]');
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="slice-axial"]')?.textContent?.includes('3 / 3'),
  );
  await page.click('button[aria-label="previous axial slice"]');
  await page.click('button[aria-label="previous axial slice"]');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="slice-axial"]')?.textContent?.includes('1 / 3'),
  );
  await page.click('button[aria-label="next axial slice"]');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="slice-axial"]')?.textContent?.includes('2 / 3'),
  );

  // Window preset: lung changes the readout and the pixels.
  const before = await canvasPixels(page, 'axial');
  await page.click('button:has-text("Lung")');
  await page.waitForFunction(() => document.querySelector('[data-testid="window"]')?.textContent === 'C -600 / W 1500');
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const lung = await canvasPixels(page, 'axial');
  assert.ok(!samePixels(lung, before), 'the lung window redraws the slice');
  await page.click('button:has-text("Soft tissue")');

  // The liver label: coloured pixels are exactly the labelled voxels of this slice (server labelmap, mapped
  // independently: axial screen u = i, v = rows-1-j for this axial CT), then grey when toggled off, back when on.
  const study = (await (await fetch(`${server.url}/api/studies`)).json()) as Array<{
    studyInstanceUID: string;
    modalities: string[];
  }>;
  const uid = study.find((s) => s.modalities.includes('SEG') && !s.studyInstanceUID.startsWith('2.25.2083'))!;
  const detail = (await (await fetch(`${server.url}/api/studies/${uid.studyInstanceUID}`)).json()) as {
    segmentations: Array<{ labelmapVolume: string }>;
  };
  const labelId = detail.segmentations[0]!.labelmapVolume;
  const header = (await (await fetch(`${server.url}/api/volumes/${labelId}`)).json()) as { dims: number[] };
  const labelmap = new Uint8Array(await (await fetch(`${server.url}/api/volumes/${labelId}/data`)).arrayBuffer());
  const [nx, ny] = [header.dims[0]!, header.dims[1]!];
  const k = 1;
  const expected = new Set<number>();
  for (let v = 0; v < ny; v++)
    for (let u = 0; u < nx; u++) if (labelmap[u + nx * (ny - 1 - v + ny * k)]) expected.add(v * nx + u);
  assert.ok(expected.size > 1000, `the liver covers ${expected.size} voxels of slice ${k}`);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const on = await canvasPixels(page, 'axial');
  const coloured = colouredPixels(on);
  const missing = [...expected].filter((p) => !coloured.has(p)).length;
  const extra = [...coloured].filter((p) => !expected.has(p)).length;
  assert.ok(missing <= expected.size * 0.01 && extra <= expected.size * 0.01, `overlay off by ${missing} / ${extra}`);

  const checkbox = page.locator('[data-testid="labels"] input[type="checkbox"]').first();
  await checkbox.uncheck();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const off = await canvasPixels(page, 'axial');
  assert.equal(colouredPixels(off).size, 0, 'no colour with the label hidden');
  const changed = [...expected].filter(
    (p) => off.data[4 * p] !== on.data[4 * p] || off.data[4 * p + 1] !== on.data[4 * p + 1],
  ).length;
  assert.ok(changed > expected.size * 0.9, `pixels under the label changed colour: ${changed} of ${expected.size}`);
  await page.screenshot({ path: join(shots, 'ct-label-off.png') });
  await checkbox.check();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  assert.ok(samePixels(await canvasPixels(page, 'axial'), on), 'the label is back as it was');

  // Cursor readout: HU and LPS at the centre of the axial view.
  const box = (await page.locator('canvas[data-view="axial"]').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('[data-testid="cursor"]');
  const readout = await page.locator('[data-testid="cursor"]').innerText();
  assert.match(readout, /HU/);
  assert.match(readout, /LPS/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a NIfTI image + mask uploaded through the page: labels listed and drawn', async (t) => {
  if (!ready(t)) return;
  const { page, errors } = await openPage(browser!);
  await page.goto(`${server.url}/#/upload`);
  await watchProgress(page);
  await page.setInputFiles('[data-testid="nifti-image"]', join(NIFTI, 'example_ct_sm.nii.gz'));
  await page.setInputFiles('[data-testid="nifti-mask"]', join(NIFTI, 'example_seg.nii.gz'));
  await page.selectOption('[data-testid="nifti-modality"]', 'CT');
  await page.click('[data-testid="nifti-submit"]');
  await uploadAndOpen(page);
  await withLabels(page);
  const mask = await readNiftiFile(join(NIFTI, 'example_seg.nii.gz'));
  const values = new Set<number>();
  for (const value of mask.data as ArrayLike<number> as Uint8Array) if (value) values.add(value);
  const listed = await page.locator('[data-testid="labels"] li').count();
  assert.equal(listed, values.size, 'one entry per label of the mask');
  let coloured = 0;
  for (const view of ['axial', 'coronal', 'sagittal']) coloured += colouredPixels(await canvasPixels(page, view)).size;
  assert.ok(coloured > 100, `labels drawn (${coloured} coloured pixels)`);
  await page.screenshot({ path: join(shots, 'nifti-viewer.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

/** Centre of the pixels brighter than a threshold, as fractions of the canvas. */
function brightCentre(pixels: CanvasPixels, threshold: number): { x: number; y: number; count: number } {
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (let p = 0; p < pixels.width * pixels.height; p++) {
    if (pixels.data[4 * p]! > threshold) {
      sx += p % pixels.width;
      sy += Math.floor(p / pixels.width);
      count++;
    }
  }
  return { x: sx / count / pixels.width, y: sy / count / pixels.height, count };
}

test('orientation: the phantom marker (Left, Anterior, Superior) sits in the expected corner of every view', async (t) => {
  if (!ready(t, false)) return;
  const { page, errors } = await openPage(browser!);
  const studies = (await (await fetch(`${server.url}/api/studies`)).json()) as Array<{
    studyInstanceUID: string;
    patientID: string;
  }>;
  const demo = studies.find((s) => s.patientID === 'MEDVOX-DEMO')!;
  await page.goto(`${server.url}/#/viewer/${demo.studyInstanceUID}`);
  await waitForVolume(page);
  await withLabels(page);
  const detail = (await (await fetch(`${server.url}/api/studies/${demo.studyInstanceUID}`)).json()) as {
    series: Array<{ modality: string; volumes: string[] }>;
  };
  const volume = detail.series.find((s) => s.modality === 'CT')!.volumes[0]!;
  const header = (await (await fetch(`${server.url}/api/volumes/${volume}`)).json()) as { affineLPS: number[] };
  const [i, j, k] = apply(invert(header.affineLPS), phantomMarkers().A).map(Math.round) as [number, number, number];

  // Bone window, overlay off.
  await page.click('button:has-text("Bone")');
  await page.keyboard.press('o');
  const expected = {
    axial: { slice: k, labels: ['R', 'L', 'A', 'P'], corner: 'top-right' },
    coronal: { slice: j, labels: ['R', 'L', 'S', 'I'], corner: 'top-right' },
    sagittal: { slice: i, labels: ['A', 'P', 'S', 'I'], corner: 'top-left' },
  };
  for (const [view, want] of Object.entries(expected)) {
    await page.fill(`[data-testid="slice-number-${view}"]`, String(want.slice + 1));
    await page.waitForSelector(`[data-testid="viewport-${view}"][data-slice="${want.slice}"]`);
    const sides = await Promise.all(
      ['left', 'right', 'top', 'bottom'].map((side) =>
        page.locator(`[data-testid="viewport-${view}"] [data-side="${side}"]`).innerText(),
      ),
    );
    assert.deepEqual(sides, want.labels, `${view} side labels`);
    await page.screenshot({ path: join(shots, `phantom-${view}.png`) });
    // Marker A (stored 1000) is the brightest thing in the phantom, whatever the rescale.
    const pixels = await canvasPixels(page, view);
    let brightest = 0;
    for (let p = 0; p < pixels.data.length; p += 4) brightest = Math.max(brightest, pixels.data[p]!);
    const centre = brightCentre(pixels, brightest - 8);
    assert.ok(centre.count > 20, `${view}: marker visible (${centre.count} bright pixels)`);
    const corner = `${centre.y < 0.5 ? 'top' : 'bottom'}-${centre.x < 0.5 ? 'left' : 'right'}`;
    assert.equal(corner, want.corner, `${view}: marker at ${JSON.stringify(centre)}`);
  }
  await page.screenshot({ path: join(shots, 'phantom-orientation.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('studies page lists, searches and filters, links the metadata workbooks, and opens a study', async (t) => {
  if (!ready(t, false)) return;
  const { page, errors } = await openPage(browser!);
  await page.goto(`${server.url}/#/studies`);
  await page.waitForSelector('tr[data-study]');
  const all = await page.locator('tr[data-study]').count();
  assert.ok(all >= 1);
  await page.fill('input[type="search"]', 'medvox-demo');
  assert.equal(await page.locator('tr[data-study]').count(), 1);
  // The metadata links: the search result's (the server applies the same search) and the study's.
  const instances = await page.locator('tr[data-study] td >> nth=7').textContent();
  const searchHref = await page.getAttribute('[data-testid="search-metadata"]', 'href');
  assert.equal(searchHref, '/api/metadata.xlsx?patient=medvox-demo');
  const studyHref = await page.getAttribute('tr[data-study] a[title="Download metadata (xlsx)"]', 'href');
  for (const href of [searchHref, studyHref]) {
    const response = await fetch(`${server.url}${href}`);
    assert.equal(response.status, 200, String(href));
    assert.equal(response.headers.get('content-type'), XLSX);
    assert.match(response.headers.get('content-disposition')!, /^attachment; filename="metadata-[\d.]+\.xlsx"$/);
    assert.equal(response.headers.get('x-medvox-instances'), instances);
    await response.arrayBuffer();
  }
  await page.fill('input[type="search"]', 'nobody-by-this-name');
  await page.waitForSelector('text=No study matches.');
  await page.fill('input[type="search"]', '');
  await page.fill('input[type="date"] >> nth=0', '2026-01-02');
  assert.equal(
    await page.locator('tr[data-study]', { hasText: 'MEDVOX-DEMO' }).count(),
    0,
    'the demo (2026-01-01) is before the range',
  );
  await page.fill('input[type="date"] >> nth=0', '');
  await page.click('tr[data-study] >> text=Demo Phantom');
  await waitForVolume(page);
  const viewerHref = await page.getAttribute('[data-testid="study-metadata"]', 'href');
  assert.equal(viewerHref, studyHref);
  assert.deepEqual(errors, []);
  await page.close();
});
