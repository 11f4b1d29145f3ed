/**
 * Browser tests: the built web app (npm run build:web) served by a real `medvox serve`, driven by playwright-core
 * in Debian's Chromium (never a downloaded browser). Console errors and page errors are collected per page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { inCI, projectRoot } from './env.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const webDist = join(projectRoot, 'web', 'dist');

/** The newest modification time under a folder (recursive). */
function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

/** Build web/dist unless it is newer than every source of the app. */
export function buildWeb(): void {
  const index = join(webDist, 'index.html');
  const sources = Math.max(
    newest(join(projectRoot, 'web', 'src')),
    statSync(join(projectRoot, 'web', 'index.html')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync('npm', ['run', 'build:web'], { cwd: projectRoot, stdio: 'inherit' });
}

/** Chromium present? In CI its absence fails the test (the CI script installs it). */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (inCI) throw new Error(`${CHROMIUM} missing (CI must install chromium: see .ci/run)`);
  t.skip(`${CHROMIUM} missing (apt-get install chromium)`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors so far. */
  errors: string[];
}

/** A 1280x800 page whose console errors are collected. */
export async function openPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return { page, errors };
}

export interface CanvasPixels {
  width: number;
  height: number;
  /** RGBA, row by row. */
  data: Uint8Array;
}

/** The pixels of a view's canvas (one canvas pixel = one voxel of the slice), passed as base64 (fast). */
export async function canvasPixels(page: Page, view: string): Promise<CanvasPixels> {
  const { width, height, base64 } = await page.evaluate((name) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[data-view="${name}"]`);
    if (!canvas) throw new Error(`no canvas for ${name}`);
    const bytes = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let offset = 0; offset < bytes.length; offset += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  }, view);
  return { width, height, data: new Uint8Array(Buffer.from(base64, 'base64')) };
}

/** Same pixels? */
export function samePixels(a: CanvasPixels, b: CanvasPixels): boolean {
  return Buffer.from(a.data).equals(Buffer.from(b.data));
}

/** Pixels whose colour is not a grey (an overlay drew there). */
export function colouredPixels(pixels: CanvasPixels): Set<number> {
  const out = new Set<number>();
  for (let p = 0; p < pixels.width * pixels.height; p++) {
    const [r, g, b] = [pixels.data[4 * p]!, pixels.data[4 * p + 1]!, pixels.data[4 * p + 2]!];
    if (r !== g || g !== b) out.add(p);
  }
  return out;
}

export function distinctColours(pixels: CanvasPixels): number {
  const seen = new Set<number>();
  for (let p = 0; p < pixels.data.length; p += 4)
    seen.add((pixels.data[p]! << 16) | (pixels.data[p + 1]! << 8) | pixels.data[p + 2]!);
  return seen.size;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

/** Wait until a view has drawn from the whole volume. */
export async function waitForVolume(page: Page, view = 'axial'): Promise<void> {
  await page.waitForSelector(`[data-testid="viewport-${view}"][data-ready="volume"]`, { timeout: 60_000 });
}
