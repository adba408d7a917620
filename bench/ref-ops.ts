// Times the reference executor's convolution kernels and matmul on the shapes the small StyleGAN
// trains with, on one thread and split over the worker threads as runGraph runs them.
// Run: npx tsx bench/ref-ops.ts
// Each line prints the best of several runs in ms and the rate in GFLOP/s (2 flops per multiply-add).
// Best-of rather than median, because other processes on a shared machine only ever add time.

import { conv2dShape } from '../src/ir/builder.ts';
import type { ConvAttrs, Shape } from '../src/ir/graph.ts';
import { numel } from '../src/ir/graph.ts';
import { conv2dBackInputKernel, conv2dBackWeightKernel, conv2dKernel } from '../targets/ref/conv.ts';
import { matmulKernel } from '../targets/ref/matmul.ts';
import { runConv, startRefWorkers } from '../targets/ref/parallel.ts';

function randomArray(shape: Shape): Float32Array {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  return data;
}

function bestMs(run: () => void, repeats: number): number {
  run();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function report(label: string, ms: number, flops: number): void {
  const gflops = flops / (ms * 1e6);
  console.log(`${label.padEnd(48)} ${ms.toFixed(1).padStart(8)} ms ${gflops.toFixed(2).padStart(7)} GFLOP/s`);
}

function benchConv(xShape: Shape, wShape: Shape, attrs: ConvAttrs, repeats: number): void {
  const yShape = conv2dShape(xShape, wShape, attrs);
  const x = randomArray(xShape);
  const w = randomArray(wShape);
  const dy = randomArray(yShape);
  const y = new Float32Array(numel(yShape));
  const dx = new Float32Array(numel(xShape));
  const dw = new Float32Array(numel(wShape));
  const flops = 2 * numel(yShape) * numel(wShape.slice(1));
  const name = `x [${xShape.join(', ')}] w [${wShape.join(', ')}]`;
  report(`conv2d ${name}`, bestMs(() => conv2dKernel(x, xShape, w, wShape, attrs, y, yShape), repeats), flops);
  report(`backInput ${name}`, bestMs(() => conv2dBackInputKernel(dy, yShape, w, wShape, attrs, dx, xShape), repeats), flops);
  report(`backWeight ${name}`, bestMs(() => conv2dBackWeightKernel(x, xShape, dy, yShape, attrs, dw, wShape), repeats), flops);
  if (threads > 1) {
    const label = `${threads} threads`;
    report(`  conv2d, ${label}`, bestMs(() => runConv('conv2d', x, xShape, w, wShape, attrs, y, yShape), repeats), flops);
    report(`  backInput, ${label}`, bestMs(() => runConv('conv2dBackInput', dy, yShape, w, wShape, attrs, dx, xShape), repeats), flops);
    report(`  backWeight, ${label}`, bestMs(() => runConv('conv2dBackWeight', x, xShape, dy, yShape, attrs, dw, wShape), repeats), flops);
  }
}

function benchMatmul(m: number, k: number, n: number, repeats: number): void {
  const a = randomArray([m, k]);
  const b = randomArray([k, n]);
  const out = new Float32Array(m * n);
  report(`matmul [${m}, ${k}] x [${k}, ${n}]`, bestMs(() => matmulKernel(a, b, 1, m, k, n, out), repeats), 2 * m * k * n);
}

const threads = (await startRefWorkers()) + 1;
const pad1: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };
benchConv([32, 32, 16, 16], [32, 32, 3, 3], pad1, 5);
benchConv([32, 16, 32, 32], [16, 16, 3, 3], pad1, 5);
benchConv([32, 64, 8, 8], [64, 64, 3, 3], pad1, 5);
benchConv([32, 16, 32, 32], [16, 1, 3, 3], { stride: 1, padding: [1, 1, 1, 1], groups: 16 }, 5);
benchMatmul(32, 128, 128, 20);
benchMatmul(256, 256, 256, 5);
