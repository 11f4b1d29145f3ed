/**
 * Bad input through the upload page: a non-image file, a broken NIfTI, and the server lost mid-upload each show
 * a clear message, and the page stays usable afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildWeb, launchChromium, openPage, requireChromium } from '../support/browser.ts';
import { corpus, hasCorpus, inCI } from '../support/env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const scratch = mkdtempSync(join(tmpdir(), 'medvox-web-bad-'));
let server: TestServer;
let browser: Browser | undefined;

before(async () => {
  buildWeb();
  server = await startTestServer();
  browser = await launchChromium().catch((error: Error) => {
    if (inCI) throw error;
    return undefined;
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Resource errors of refused requests are expected here; script errors are not. */
function scriptErrors(errors: string[]): string[] {
  return errors.filter((error) => !/Failed to load resource|net::ERR_/.test(error));
}

test('a non-image file is refused with a clear message; the page stays usable', async (t) => {
  if (!requireChromium(t) || !browser) return;
  const { page, errors } = await openPage(browser);
  await page.goto(`${server.url}/#/upload`);
  const text = join(scratch, 'notes.txt');
  writeFileSync(text, 'this is not a medical image\n'.repeat(20));
  await page.setInputFiles('[data-testid="dicom-files"]', text);
  const message = await page.waitForSelector('[data-phase="failed"] [role="alert"]');
  assert.match((await message.textContent()) ?? '', /notes\.txt.*DICOM|DICOM.*notes\.txt|not a DICOM/i);
  // Usable: the studies page still answers.
  await page.click('nav >> text=Studies');
  await page.waitForSelector('text=The archive is empty.');
  assert.deepEqual(scriptErrors(errors), []);
  await page.close();
});

test('a broken NIfTI is refused with a clear message naming the file', async (t) => {
  if (!requireChromium(t) || !browser) return;
  if (!hasCorpus()) {
    if (inCI) throw new Error('corpus missing');
    t.skip('corpus missing');
    return;
  }
  const { page, errors } = await openPage(browser);
  await page.goto(`${server.url}/#/upload`);
  const broken = join(scratch, 'broken.nii.gz');
  const whole = readFileSync(corpus('nifti', 'totalseg_ct_small_multilabel', 'example_ct_sm.nii.gz'));
  writeFileSync(broken, whole.subarray(0, Math.floor(whole.length / 3)));
  await page.setInputFiles('[data-testid="nifti-image"]', broken);
  await page.click('[data-testid="nifti-submit"]');
  const message = await page.waitForSelector('[data-phase="failed"] [role="alert"]');
  assert.match((await message.textContent()) ?? '', /broken\.nii\.gz/);
  // Usable: another upload can be started.
  await page.setInputFiles('[data-testid="nifti-image"]', broken);
  await page.click('[data-testid="nifti-submit"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-phase="failed"]').length === 2);
  assert.deepEqual(scriptErrors(errors), []);
  await page.close();
});

test('the server lost mid-upload: the page says so and stays usable', async (t) => {
  if (!requireChromium(t) || !browser) return;
  const lost = await startTestServer();
  const { page, errors } = await openPage(browser);
  try {
    await page.goto(`${lost.url}/#/upload`);
    // When the upload's first bytes arrive, the server goes away (connections cut, listener closed).
    lost.app.server.prependListener('request', (request: IncomingMessage) => {
      if (!request.url?.startsWith('/api/uploads')) return;
      request.once('data', () => {
        lost.app.server.close();
        lost.app.server.closeAllConnections();
      });
    });
    const big = join(scratch, 'big.dcm');
    writeFileSync(big, randomBytes(32 * 1024 * 1024));
    await page.setInputFiles('[data-testid="dicom-files"]', big);
    const message = await page.waitForSelector('[data-phase="failed"] [role="alert"]', { timeout: 60_000 });
    assert.match((await message.textContent()) ?? '', /connection to the server was lost/i);
    await page.click('nav >> text=Studies');
    const alert = await page.waitForSelector('[role="alert"]:has-text("Could not load the studies")');
    assert.match((await alert.textContent()) ?? '', /cannot reach the medvox server/);
    assert.ok(await page.locator('button:has-text("Retry")').isEnabled());
    assert.deepEqual(scriptErrors(errors), []);
  } finally {
    await page.close();
    await lost.stop().catch(() => undefined);
  }
});
