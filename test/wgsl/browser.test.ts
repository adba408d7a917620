// End to end in headless Chromium. A page served from a loopback server loads the wgsl target
// (bundled with esbuild) and runs the fashion-32 generator from a fixed latent and noise key
// through navigator.gpu (SwiftShader). Its image must equal the Node (Dawn) result within 1e-4 of
// the image's largest magnitude, because both run the same WGSL and differ only in their float32
// exp, log, sqrt and cos.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { numel } from '../../src/ir/graph.ts';
import { buildGenerator } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { type Browser, chromiumAvailable, launchChromium } from '../browser/chromium.ts';
import type { GraphMessage } from './browser-entry.ts';
import { wgsl } from './helpers.ts';

const spec = checkFile('examples/fashion-32.sgan').spec!;
const graph = buildGenerator(spec, { stage: 32, batch: 1, fading: false, noise: 'random' });

function generatorFeeds(): TensorMap {
  const feeds: TensorMap = { ...initParams(spec, 11) };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(42);
    else if (name === 'trunc') data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = Math.sin(1 + i * 0.61);
    feeds[name] = { shape, data };
  }
  return feeds;
}

function graphMessage(feeds: TensorMap): GraphMessage {
  const nodes = graph.nodes.map((node) => (node.kind === 'literal' ? { ...node, data: [...node.data] } : node)) as GraphMessage['nodes'];
  const used = new Set([...graph.inputs().keys(), ...graph.params().keys()]);
  const sent: GraphMessage['feeds'] = {};
  for (const name of used) sent[name] = { shape: feeds[name]!.shape, data: [...feeds[name]!.data] };
  return { nodes, outputs: [...graph.outputs], feeds: sent };
}

describe.skipIf(!chromiumAvailable())('wgsl in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: ['test/wgsl/browser-entry.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      // The optimizer reads its debug switches from process.env, which browsers lack.
      define: { 'process.env.SGAN_DEBUG': 'undefined', 'process.env.SGAN_DEBUG_KERNEL': 'undefined' },
    });
    const script = bundle.outputFiles[0]!.text;
    const page = '<!doctype html><meta charset="utf-8"><title>sganc wgsl</title><script type="module" src="/entry.js"></script>';
    server = createServer((request, response) => {
      if (request.url === '/entry.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(page);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('generator image equals the Node result', async () => {
    const feeds = generatorFeeds();
    const expected = (await wgsl.compile(graph, 'generator').run(feeds)).image!.data;

    const page = await browser.context.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto(origin);
    await page.waitForFunction(() => 'runGraphMessage' in globalThis);
    const message = graphMessage(feeds);
    const actual = await page.evaluate(
      (sent) => (globalThis as unknown as { runGraphMessage(m: unknown): Promise<Record<string, number[]>> }).runGraphMessage(sent),
      message,
    );
    expect(logs.some((line) => line.startsWith('sganc: WebGPU adapter: '))).toBe(true);
    const image = actual.image!;
    expect(image.length).toBe(expected.length);
    const scale = Math.max(...expected.map(Math.abs));
    expect(scale).toBeGreaterThan(0.01);
    const worst = Math.max(...image.map((v, i) => Math.abs(v - expected[i]!)));
    expect(worst).toBeLessThanOrEqual(1e-4 * scale);
  });
});
