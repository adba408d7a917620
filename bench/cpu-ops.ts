// Times convolutions and matrix products of StyleGAN shapes and the fashion-32 training steps on the
// ref target and on the cpu target with 1 and N threads, in the same process. Prints a table of the
// median wall-clock ms after one warm-up run, and GFLOP/s at 2 flops per multiply-add.
// Run: npx tsx bench/cpu-ops.ts [threads] [repeats]   (defaults: one per core, and 5)

import { availableParallelism } from 'node:os';
import { Builder } from '../src/ir/builder.ts';
import { checkFile } from '../src/check/index.ts';
import { type ConvAttrs, type Graph, numel } from '../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../src/layers/programs.ts';
import { initParams } from '../src/params/init.ts';
import type { Target } from '../src/runtime/target.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { createCpuTarget } from '../targets/cpu/index.ts';
import { refTarget, startRefWorkers } from '../targets/ref/index.ts';

const threads = Number(process.argv[2] ?? availableParallelism());
const repeats = Number(process.argv[3] ?? 5);

interface Case {
  name: string;
  graph: Graph;
  feeds: TensorMap;
  /** Floating-point operations of one run; 0 when not counted. */
  flops: number;
}

function uniformFeeds(graph: Graph, extra: TensorMap = {}): TensorMap {
  const feeds: TensorMap = { ...extra };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(7);
    else if (name === 'mix') data.fill(0);
    else if (name === 'trunc') data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
    feeds[name] = { shape, data };
  }
  return feeds;
}

const SAME_3X3: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };

function convCases(label: string, x: [number, number, number, number], co: number): Case[] {
  const w = [co, x[1], 3, 3];
  const y = [x[0], co, x[2], x[3]];
  const flops = 2 * numel(y) * x[1] * 9;
  const build = (make: (b: Builder) => number): Graph => {
    const b = new Builder();
    b.output('out', make(b));
    return b.graph;
  };
  const forward = build((b) => b.conv2d(b.input('x', x), b.input('w', w), SAME_3X3));
  const backInput = build((b) => b.conv2dBackInput(b.input('dy', y), b.input('w', w), SAME_3X3, x));
  const backWeight = build((b) => b.conv2dBackWeight(b.input('x', x), b.input('dy', y), SAME_3X3, w));
  const shape = `${x.join('x')} -> ${co}`;
  return [
    { name: `conv2d ${label} ${shape}`, graph: forward, feeds: uniformFeeds(forward), flops },
    { name: `conv2dBackInput ${label} ${shape}`, graph: backInput, feeds: uniformFeeds(backInput), flops },
    { name: `conv2dBackWeight ${label} ${shape}`, graph: backWeight, feeds: uniformFeeds(backWeight), flops },
  ];
}

function matmulCase(m: number, k: number, n: number): Case {
  const b = new Builder();
  b.output('out', b.matmul(b.input('a', [m, k]), b.input('b', [k, n])));
  return { name: `matmul ${m}x${k} @ ${k}x${n}`, graph: b.graph, feeds: uniformFeeds(b.graph), flops: 2 * m * k * n };
}

function stepCases(): Case[] {
  const checked = checkFile('examples/fashion-32.sgan');
  if (checked.spec === undefined) throw new Error('examples/fashion-32.sgan has errors');
  const spec = checked.spec;
  const params = initParams(spec, 1);
  const batch = spec.train.batch.perRes[32] ?? spec.train.batch.base;
  const g = buildGeneratorStep(spec, { stage: 32, batch, fading: false });
  const d = buildDiscriminatorStep(spec, { stage: 32, batch, fading: false, r1Gamma: spec.train.r1Gamma });
  return [
    { name: `fashion-32 G step, batch ${batch}`, graph: g, feeds: uniformFeeds(g, params), flops: 0 },
    { name: `fashion-32 D step + R1, batch ${batch}`, graph: d, feeds: uniformFeeds(d, params), flops: 0 },
  ];
}

async function medianMs(target: Target, c: Case, runs: number): Promise<number> {
  const program = target.compile(c.graph, c.name);
  await program.run(c.feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await program.run(c.feeds);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const cases = [
  ...convCases('fashion 32x32', [16, 32, 32, 32], 32),
  ...convCases('fashion 8x8', [32, 64, 8, 8], 64),
  ...convCases('StyleGAN 32x32', [2, 128, 32, 32], 128),
  matmulCase(64, 512, 512),
  ...stepCases(),
];
// Start the ref executor's own worker threads first, so its first case is not timed while they start.
await startRefWorkers();
const cpuOne = createCpuTarget({ threads: 1 });
const cpuMany = createCpuTarget({ threads });

const gflops = (c: Case, ms: number): string => (c.flops === 0 ? '' : (c.flops / ms / 1e6).toFixed(2));
const header = ['case', 'GFLOP', 'ref ms', 'ref GF/s', 'cpu1 ms', 'cpu1 GF/s', `cpu${threads} ms`, `cpu${threads} GF/s`, 'speedup'];
console.log(`ref vs cpu (1 and ${threads} threads); median of ${repeats} runs after one warm-up (ref: ${Math.min(3, repeats)} runs)`);
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const c of cases) {
  const ref = await medianMs(refTarget, c, Math.min(3, repeats));
  const one = await medianMs(cpuOne, c, repeats);
  const many = await medianMs(cpuMany, c, repeats);
  const row = [
    c.name,
    c.flops === 0 ? '' : (c.flops / 1e9).toFixed(3),
    ref.toFixed(1),
    gflops(c, ref),
    one.toFixed(1),
    gflops(c, one),
    many.toFixed(1),
    gflops(c, many),
    `${(ref / many).toFixed(1)}x`,
  ];
  console.log(`| ${row.join(' | ')} |`);
}
