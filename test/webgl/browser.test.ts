// The webgl target in a browser. esbuild bundles test/webgl/browser/entry.ts for the browser
// platform, which fails if a Node-only module reaches the bundle. A loopback HTTP server serves it
// to headless Chromium, where the target picks WebGL2, and the outputs must match the reference
// executor.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGraph } from '../../targets/ref/index.ts';
import { chromiumAvailable, launchChromium } from '../browser/chromium.ts';
import { browserGraph } from './browser/graph.ts';

const PAGE = '<!doctype html><meta charset="utf-8"><title>webgl target</title><script type="module" src="/bundle.js"></script>';

describe.skipIf(!chromiumAvailable())('webgl target in Chromium', () => {
  let server: Server;
  let origin = '';

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [new URL('./browser/entry.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      // The optimizer reads SGAN_DEBUG from process.env; pages shim `process` the way the playground's prelude does.
      banner: { js: 'globalThis.process ??= { env: {} };' },
    });
    const script = bundle.outputFiles[0]!.contents;
    server = createServer((request, response) => {
      if (request.url === '/bundle.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end(script);
      } else {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(PAGE);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs in webgl2 mode and matches ref', async () => {
    const browser = await launchChromium();
    let result: unknown;
    try {
      const page = await browser.context.newPage();
      await page.goto(origin);
      await page.waitForFunction(() => window.webglResult !== undefined, undefined, { timeout: 60_000 });
      result = await page.evaluate(() => window.webglResult);
    } finally {
      await browser.close();
    }
    const { mode, outputs } = result as { mode: string; outputs: Record<string, number[]> };
    expect(result).not.toHaveProperty('error');
    expect(mode).toBe('webgl2');

    const { graph, feeds } = browserGraph();
    const expected = runGraph(graph, feeds);
    // randn is computed on the host by the exact generator, so it matches bit for bit.
    expect(outputs.noise).toEqual(Array.from(expected.noise!.data));
    // The conv sums 27 products of values in [-1, 1], the epilogue squares the sum (up to about
    // 27^2) and a row mean is subtracted; 2^-14 (1 + |ref|) is a loose multiple of the float32
    // rounding of that chain.
    const out = expected.out!.data;
    expect(outputs.out).toHaveLength(out.length);
    const far = [...out.keys()].filter((i) => !(Math.abs(outputs.out![i]! - out[i]!) <= 2 ** -14 * (1 + Math.abs(out[i]!))));
    expect(far.map((i) => `[${i}] webgl2 ${outputs.out![i]} ref ${out[i]}`).slice(0, 5)).toEqual([]);
  });
});
