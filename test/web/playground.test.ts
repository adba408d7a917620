// The playground in headless Chromium, driven as a user would: typing errors, switching graph views,
// sampling a checkpoint trained here and comparing it with `sganc generate`, style mixing, bad files
// and the live run tab. Screenshots of every view go to test-output/web/ for a person to look at.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureWebApp } from '../../web/server/build.ts';
import { type RunningServer, startServer } from '../../web/server/http.ts';
import { type Browser, chromiumAvailable, launchChromium } from '../browser/chromium.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SGANC = join(ROOT, 'bin', 'sganc.mjs');
const FASHION = join(ROOT, 'examples', 'fashion-32.sgan');
const SHOTS = join(ROOT, 'test-output', 'web');

/** Per-channel difference allowed between the page's pixels and the CLI's PNG, in 8-bit levels. */
const PIXEL_TOLERANCE = 2;

function sganc(...args: string[]): string {
  const result = spawnSync(process.execPath, [SGANC, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`sganc ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

/** 1-based line of the first line of `file` that contains `needle`. */
function lineOf(file: string, needle: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`${file} has no line with '${needle}'`);
  return index + 1;
}

interface Pixels {
  width: number;
  height: number;
  /** RGBA bytes. */
  data: number[];
}

async function canvasPixels(page: Page, selector: string): Promise<Pixels> {
  return page.$eval(selector, (element) => {
    const canvas = element as HTMLCanvasElement;
    const image = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    return { width: canvas.width, height: canvas.height, data: Array.from(image.data) };
  });
}

/** Red channel of cell (row, col) of a grid of `size` pixel images with 2-pixel padding. */
function cell(pixels: Pixels, row: number, col: number, size: number): number[] {
  const values: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = 2 + col * (size + 2) + x;
      const py = 2 + row * (size + 2) + y;
      values.push(pixels.data[(py * pixels.width + px) * 4]!);
    }
  }
  return values;
}

function maxDifference(a: readonly number[], b: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function waitIdle(page: Page): Promise<void> {
  await page.waitForSelector('#panel-sampler[data-busy="false"]', { timeout: 90_000 });
}

const available = chromiumAvailable();

describe.skipIf(!available)('playground in Chromium', () => {
  let work: string;
  let run: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'sganc-web-'));
    run = join(work, 'run');
    // One iteration per tick at 8x8 (minibatch 16), so the run takes a few seconds.
    sganc('train', FASHION, '--kimg', '0.032', '--tick-kimg', '0.016', '--out', run);
    await ensureWebApp();
    server = await startServer({ host: '127.0.0.1', port: 0, runDir: run });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('editor locates syntax and semantic errors', async () => {
    await page.goto(`${server.url}?example=fashion-32.sgan`);
    await page.click('nav button[data-tab="graph"]');
    await expect.poll(() => page.textContent('#diagnostics')).toContain('no errors: model fashion32');

    // A misspelt block call: 'gblock()' becomes 'gblocx()'.
    const blockLine = lineOf(FASHION, 'gblock()');
    const blockColumn = readFileSync(FASHION, 'utf8').split('\n')[blockLine - 1]!.indexOf('gblock') + 1;
    await page.locator('.cm-line', { hasText: 'gblock()' }).click();
    await page.keyboard.press('End');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('x');
    const semantic = page.locator('#diagnostics li.error');
    await expect.poll(() => semantic.count()).toBe(1);
    expect(await semantic.getAttribute('data-line')).toBe(String(blockLine));
    expect(await semantic.getAttribute('data-column')).toBe(String(blockColumn));
    expect(await semantic.textContent()).toContain("'gblocx'");
    expect(await semantic.textContent()).toContain("did you mean 'gblock'");
    const underline = page.locator('.cm-lintRange-error');
    await expect.poll(() => underline.count()).toBe(1);
    expect(await underline.textContent()).toBe('gblocx');
    await page.screenshot({ path: join(SHOTS, 'editor-error.png') });

    // A syntax error on a new line after the 'pixelnorm' line.
    await page.keyboard.press('Backspace');
    await page.keyboard.type('k');
    await expect.poll(() => page.textContent('#diagnostics')).toContain('no errors');
    const pixelnormLine = lineOf(FASHION, 'pixelnorm');
    await page.locator('.cm-line', { hasText: 'pixelnorm' }).click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('dense = 3');
    const syntax = page.locator('#diagnostics li.error');
    await expect.poll(() => syntax.count()).toBe(1);
    expect(await syntax.getAttribute('data-line')).toBe(String(pixelnormLine + 1));
    expect(await syntax.textContent()).toContain("found '='");
    expect(await page.locator('.cm-lintRange-error').textContent()).toBe('=');
    // The formatter rejects a file with syntax errors and leaves the text alone.
    await page.click('#format');
    expect(await page.textContent('#format-message')).toContain('syntax errors');
  });

  it('format button rewrites to canonical form', async () => {
    await page.goto(`${server.url}?example=fashion-32.sgan`);
    const latentLine = lineOf(FASHION, 'latent z');
    const original = readFileSync(FASHION, 'utf8').split('\n')[latentLine - 1]!;
    await page.locator('.cm-line', { hasText: 'latent z' }).click();
    await page.keyboard.press('End');
    await page.keyboard.type(' ;');
    await expect.poll(() => page.locator('.cm-line').nth(latentLine - 1).textContent()).toBe(`${original} ;`);
    await page.click('#format');
    await expect.poll(() => page.locator('.cm-line').nth(latentLine - 1).textContent()).toBe(original);
  });

  it('graph view renders both examples', async () => {
    for (const [file, name, topStage] of [
      ['fashion-32.sgan', 'fashion32', 32],
      ['stylegan-ffhq-1024.sgan', 'stylegan_ffhq_1024', 1024],
    ] as const) {
      await page.goto(`${server.url}?example=${file}`);
      await page.click('nav button[data-tab="graph"]');
      await expect.poll(() => page.textContent('#diagnostics')).toContain(`no errors: model ${name}`);
      for (const network of ['mapping', 'synthesis', 'discriminator']) {
        await page.selectOption('#graph-network', network);
        if (network !== 'mapping') await page.selectOption('#graph-stage', String(topStage));
        for (const level of ['layers', 'ops', 'kernels']) {
          await page.selectOption('#graph-level', level);
          const caption = (await page.textContent('#graph-caption')) ?? '';
          expect(caption, `${file} ${network} ${level}`).toContain(name);
          const nodes = await page.locator('#graph-canvas svg.graph g.node').count();
          expect(nodes, `${file} ${network} ${level}`).toBeGreaterThan(3);
          expect(caption).toContain(`${nodes} nodes`);
          if (network === 'synthesis') await page.screenshot({ path: join(SHOTS, `graph-${name}-${level}.png`) });
        }
      }
      // Above the first stage the synthesis layer graph has the fade-in path, which ends in a lerp.
      await page.selectOption('#graph-network', 'synthesis');
      await page.selectOption('#graph-level', 'layers');
      const lerp = page.locator('#graph-canvas g.node', { hasText: 'lerp' });
      expect(await lerp.count()).toBe(1);
      await lerp.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, `graph-${name}-fade-in.png`) });
    }
    // The stage list follows the model: the FFHQ model has the 9 stages 4, 8, ..., 1024.
    expect(await page.locator('#graph-stage option').count()).toBe(9);
  });

  it('kernels tab shows each kernel source', async () => {
    await page.goto(`${server.url}?example=fashion-32.sgan`);
    await page.click('nav button[data-tab="kernels"]');
    await expect.poll(() => page.locator('#kernel-list li').count()).toBeGreaterThan(2);
    await page.selectOption('#kernel-language', 'ir');
    await expect.poll(() => page.textContent('#kernel-code')).toMatch(/^k0_\w+: /);
    await page.locator('#kernel-list li').nth(1).click();
    expect(await page.textContent('#kernel-code')).toMatch(/^k1_\w+: /);
    await page.selectOption('#kernel-language', 'glsl');
    await expect.poll(() => page.textContent('#kernel-note')).toMatch(/GLSL|WebGL/);
    await page.screenshot({ path: join(SHOTS, 'kernels.png') });
  });

  it('run tab follows training', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('nav button[data-tab="run"]').isVisible()).toBe(true);
    expect(await page.textContent('#run-status')).toMatch(/\n\s+2\s+0\.032\s/);
    // Training continues while the page is open; the next poll shows the new tick.
    sganc('train', FASHION, '--resume', run, '--kimg', '0.048', '--tick-kimg', '0.016');
    await expect.poll(() => page.textContent('#run-status'), { timeout: 15_000 }).toMatch(/\n\s+3\s+0\.048\s/);
    expect(await page.textContent('#run-summary')).toContain('checkpoint-000000.048.safetensors');
    await expect.poll(() => page.$eval('#run-fakes', (img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await expect.poll(() => page.$eval('#run-losses', (img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'run.png') });
  });

  it('sampler matches sganc generate', async () => {
    const expected = join(work, 'generate.png');
    sganc('generate', run, '--seeds', '0-3', '--cols', '2', '--scale', '1', '--out', expected);
    const reference = PNG.sync.read(readFileSync(expected));
    const red = (data: ArrayLike<number>): number[] => Array.from({ length: data.length / 4 }, (_, i) => data[i * 4]!);

    // The engine the page picks, WebGL2, then the TypeScript executor. A GPU engine that fails hands
    // over to the TypeScript executor, and the badge shows that.
    for (const query of ['', '?engine=webgl2', '?engine=cpu']) {
      await page.goto(`${server.url}${query}`);
      await page.click('#run-sample');
      await expect.poll(() => page.textContent('#checkpoint-status')).toContain('checkpoint-000000.048.safetensors');
      await waitIdle(page);
      await page.fill('#seeds', '0-3');
      await page.click('#generate');
      await waitIdle(page);
      const engine = (await page.textContent('#engine')) ?? '';
      expect(await page.textContent('#sampler-message'), engine).toContain('generate: done');
      const shown = await canvasPixels(page, '#samples-canvas');
      expect([shown.width, shown.height]).toEqual([reference.width, reference.height]);
      expect(maxDifference(red(shown.data), red(reference.data)), engine).toBeLessThanOrEqual(PIXEL_TOLERANCE);
      if (query === '') {
        expect(engine).toMatch(/^engine: (WebGPU|WebGL2|CPU \(TypeScript\))/);
        await page.screenshot({ path: join(SHOTS, 'sampler.png') });
      } else if (query === '?engine=webgl2') {
        expect(engine).toMatch(/^engine: (WebGL2|CPU \(TypeScript\), after WebGL2 failed)$/);
      } else {
        expect(engine).toBe('engine: CPU (TypeScript)');
      }
    }
  });

  it('truncation and noise controls', async () => {
    // psi 0 with the cutoff above every active style layer maps every w to w_avg, so without noise
    // all images are the same.
    await page.selectOption('#noise-mode', 'none');
    await page.fill('#cutoff', '99');
    await page.fill('#psi', '0');
    await waitIdle(page);
    await page.click('#generate');
    await waitIdle(page);
    const flat = await canvasPixels(page, '#samples-canvas');
    for (const [row, col] of [[0, 1], [1, 0], [1, 1]] as const) expect(cell(flat, row, col, 8)).toEqual(cell(flat, 0, 0, 8));

    // With per-image noise, resampling it changes the images and keeps their size.
    await page.fill('#psi', '1');
    await waitIdle(page);
    await page.selectOption('#noise-mode', 'random');
    await page.click('#generate');
    await waitIdle(page);
    const before = await canvasPixels(page, '#samples-canvas');
    await page.click('#resample-noise');
    await waitIdle(page);
    const after = await canvasPixels(page, '#samples-canvas');
    expect([after.width, after.height]).toEqual([before.width, before.height]);
    expect(maxDifference(after.data, before.data)).toBeGreaterThan(0);
  });

  it('style mixing grid takes column styles', async () => {
    // At 8x8 every active style layer is coarse, so a cell with the coarse styles of column c and no
    // noise is column c's image, and a cell with no styles mixed is its row's image.
    await page.selectOption('#noise-mode', 'none');
    await page.fill('#mix-rows', '0-1');
    await page.fill('#mix-cols', '2-4');
    await page.check('#mix-coarse');
    expect(await page.isDisabled('#mix-middle')).toBe(true);
    await page.click('#mix-run');
    await waitIdle(page);
    const mixed = await canvasPixels(page, '#mix-canvas');
    expect([mixed.width, mixed.height]).toEqual([4 * 8 + 5 * 2, 3 * 8 + 4 * 2]);
    for (let r = 1; r <= 2; r++) {
      for (let c = 1; c <= 3; c++) expect(maxDifference(cell(mixed, r, c, 8), cell(mixed, 0, c, 8))).toBeLessThanOrEqual(1);
    }
    await page.screenshot({ path: join(SHOTS, 'mixing.png') });

    await page.uncheck('#mix-coarse');
    await page.click('#mix-run');
    await waitIdle(page);
    const unmixed = await canvasPixels(page, '#mix-canvas');
    for (let r = 1; r <= 2; r++) {
      for (let c = 1; c <= 3; c++) expect(maxDifference(cell(unmixed, r, c, 8), cell(unmixed, r, 0, 8))).toBeLessThanOrEqual(1);
    }
  });

  it('bad files keep the loaded checkpoint', async () => {
    const status = await page.textContent('#checkpoint-status');
    const images = await canvasPixels(page, '#samples-canvas');

    // A text file dropped on the drop zone.
    const drop = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['not a checkpoint'], 'notes.txt', { type: 'text/plain' }));
      return transfer;
    });
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: drop });
    await expect.poll(() => page.textContent('#sampler-message')).toContain('notes.txt is not a .safetensors file');

    // Bytes that are not safetensors, under a .safetensors name.
    const garbage = join(work, 'garbage.safetensors');
    spawnSync('sh', ['-c', `printf 'this is not a safetensors file at all' > ${garbage}`]);
    await page.setInputFiles('#checkpoint-file', garbage);
    await expect.poll(() => page.textContent('#sampler-message')).toContain('not a valid safetensors checkpoint');

    // A checkpoint of fashion32 while the editor contains another model.
    await page.selectOption('#example', 'stylegan-ffhq-1024.sgan');
    await expect.poll(() => page.textContent('#diagnostics')).toContain('model stylegan_ffhq_1024');
    await page.setInputFiles('#checkpoint-file', join(run, 'checkpoint-000000.048.safetensors'));
    await expect.poll(() => page.textContent('#sampler-message')).toContain('another model');
    await page.screenshot({ path: join(SHOTS, 'bad-checkpoint.png') });

    expect(await page.textContent('#checkpoint-status')).toBe(status);
    expect((await canvasPixels(page, '#samples-canvas')).data).toEqual(images.data);
    expect(pageErrors).toEqual([]);
  });
});
