// Times conv2d and matmul of the shapes in bench/cpu-ops.ts on the cpu target and on TensorFlow.js's
// WebAssembly backend (@tensorflow/tfjs-backend-wasm, a dev dependency), in the same process.
// TensorFlow.js runs its convolutions in NHWC, the layout its wasm backend supports. The FLOP count is
// the same, so GFLOP/s compare directly. Prints median ms after one warm-up run and GFLOP/s.
// Run: npx tsx bench/cpu-tfjs.ts [threads] [repeats]   (defaults: one per core, and 5)

import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { Builder } from '../src/ir/builder.ts';
import { type Graph, numel } from '../src/ir/graph.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { createCpuTarget } from '../targets/cpu/index.ts';

const threads = Number(process.argv[2] ?? availableParallelism());
const repeats = Number(process.argv[3] ?? 5);

async function median(run: () => Promise<void>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function randomFeeds(graph: Graph): TensorMap {
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    feeds[name] = { shape, data: Float32Array.from({ length: numel(shape) }, () => Math.random() * 2 - 1) };
  }
  return feeds;
}

await tf.setBackend('wasm');
await tf.ready();
const cpu = createCpuTarget({ threads });

console.log(`cpu target (${threads} threads) vs tfjs-backend-wasm ${tf.version_core} (${getThreadsCount()} threads); median of ${repeats} runs after one warm-up`);
console.log('| case | GFLOP | cpu ms | cpu GF/s | tfjs-wasm ms | tfjs-wasm GF/s |');
console.log('| --- | --- | --- | --- | --- | --- |');

const convShapes: [string, [number, number, number, number], number][] = [
  ['fashion 32x32', [16, 32, 32, 32], 32],
  ['fashion 8x8', [32, 64, 8, 8], 64],
  ['StyleGAN 32x32', [2, 128, 32, 32], 128],
];
for (const [label, x, co] of convShapes) {
  const [n, c, h, w] = x;
  const b = new Builder();
  b.output('out', b.conv2d(b.input('x', x), b.input('w', [co, c, 3, 3]), { stride: 1, padding: [1, 1, 1, 1], groups: 1 }));
  const feeds = randomFeeds(b.graph);
  const program = cpu.compile(b.graph, label);
  const cpuMs = await median(async () => {
    await program.run(feeds);
  });

  const input = tf.randomUniform([n, h, w, c], -1, 1);
  const filter = tf.randomUniform([3, 3, c, co], -1, 1);
  const tfMs = await median(async () => {
    const y = tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same');
    await y.data();
    y.dispose();
  });
  const flops = 2 * n * co * h * w * c * 9;
  console.log(`| conv2d 3x3 ${label} ${x.join('x')} -> ${co} | ${(flops / 1e9).toFixed(3)} | ${cpuMs.toFixed(1)} | ${(flops / cpuMs / 1e6).toFixed(2)} | ${tfMs.toFixed(1)} | ${(flops / tfMs / 1e6).toFixed(2)} |`);
}

{
  const [m, k, n] = [64, 512, 512];
  const b = new Builder();
  b.output('out', b.matmul(b.input('a', [m, k]), b.input('b', [k, n])));
  const feeds = randomFeeds(b.graph);
  const program = cpu.compile(b.graph, 'matmul');
  const cpuMs = await median(async () => {
    await program.run(feeds);
  });
  const left = tf.randomUniform([m, k], -1, 1);
  const right = tf.randomUniform([k, n], -1, 1);
  const tfMs = await median(async () => {
    const y = tf.matMul(left as tf.Tensor2D, right as tf.Tensor2D);
    await y.data();
    y.dispose();
  });
  const flops = 2 * m * k * n;
  console.log(`| matmul ${m}x${k} @ ${k}x${n} | ${(flops / 1e9).toFixed(3)} | ${cpuMs.toFixed(1)} | ${(flops / cpuMs / 1e6).toFixed(2)} | ${tfMs.toFixed(1)} | ${(flops / tfMs / 1e6).toFixed(2)} |`);
}
