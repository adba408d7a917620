// Compares the cpu target with PyTorch on 3x3 convolutions (forward and both transposes) and a
// matmul of StyleGAN shapes. The PyTorch side is bench/torch_ops.py, run with Debian's
// /usr/bin/python3 and its PyTorch (1.13), on the same thread count, one after the other so the two
// never compete for the cores. Prints a table of median ms and GFLOP/s (2 flops per multiply-add).
// Run: npx tsx bench/cpu-torch.ts [THREADS] [REPEATS]   (defaults: one per core, and 7)

import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Builder } from '../src/ir/builder.ts';
import { type ConvAttrs, type Graph, numel } from '../src/ir/graph.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { createCpuTarget } from '../targets/cpu/index.ts';

const threads = Number(process.argv[2] ?? availableParallelism());
const repeats = Number(process.argv[3] ?? 7);

const SAME_3X3: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };

/** The shapes of bench/torch_ops.py, in its order and with its case names. */
const CONV_SHAPES: [string, [number, number, number, number], number][] = [
  ['batch 8, 64 channels, 32x32', [8, 64, 32, 32], 64],
  ['fashion 32x32', [16, 32, 32, 32], 32],
  ['fashion 8x8', [32, 64, 8, 8], 64],
  ['StyleGAN 32x32', [2, 128, 32, 32], 128],
];

function graphOf(make: (b: Builder) => number): Graph {
  const b = new Builder();
  b.output('out', make(b));
  return b.graph;
}

function cases(): Map<string, Graph> {
  const result = new Map<string, Graph>();
  for (const [label, x, co] of CONV_SHAPES) {
    const w = [co, x[1], 3, 3];
    const y = [x[0], co, x[2], x[3]];
    const shape = `${x.join('x')} -> ${co}`;
    result.set(`conv2d ${label} ${shape}`, graphOf((b) => b.conv2d(b.input('x', x), b.input('w', w), SAME_3X3)));
    result.set(`conv2dBackInput ${label} ${shape}`, graphOf((b) => b.conv2dBackInput(b.input('dy', y), b.input('w', w), SAME_3X3, x)));
    result.set(`conv2dBackWeight ${label} ${shape}`, graphOf((b) => b.conv2dBackWeight(b.input('x', x), b.input('dy', y), SAME_3X3, w)));
  }
  result.set('matmul 64x512 @ 512x512', graphOf((b) => b.matmul(b.input('a', [64, 512]), b.input('b', [512, 512]))));
  return result;
}

function uniformFeeds(graph: Graph): TensorMap {
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    feeds[name] = { shape, data: Float32Array.from({ length: numel(shape) }, () => Math.random() * 2 - 1) };
  }
  return feeds;
}

async function medianMs(graph: Graph): Promise<number> {
  const program = createCpuTarget({ threads }).compile(graph, 'bench');
  const feeds = uniformFeeds(graph);
  for (let i = 0; i < 2; i++) await program.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await program.run(feeds);
    times.push(performance.now() - start);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`cpu target vs PyTorch, ${threads} threads, median of ${repeats} runs after two warm-up runs`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${load()}`);

const cpuMs = new Map<string, number>();
for (const [name, graph] of cases()) cpuMs.set(name, await medianMs(graph));

const torchOutput = execFileSync('/usr/bin/python3', ['bench/torch_ops.py', String(threads), String(repeats)], { encoding: 'utf8' });
console.log('| case | GFLOP | cpu ms | cpu GF/s | PyTorch ms | PyTorch GF/s | cpu / PyTorch time |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const line of torchOutput.trim().split('\n')) {
  const torch = JSON.parse(line) as { name: string; gflop: number; ms: number };
  const cpu = cpuMs.get(torch.name);
  if (cpu === undefined) throw new Error(`bench/torch_ops.py printed case '${torch.name}', which bench/cpu-torch.ts does not run`);
  const row = [torch.name, torch.gflop.toFixed(3), cpu.toFixed(1), (torch.gflop / cpu * 1e3).toFixed(1), torch.ms.toFixed(1), (torch.gflop / torch.ms * 1e3).toFixed(1), `${(cpu / torch.ms).toFixed(2)}x`];
  console.log(`| ${row.join(' | ')} |`);
}
console.log(`load average after: ${load()}`);
process.exit(0);
