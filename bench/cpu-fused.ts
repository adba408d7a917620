// Compares the cpu target's two paths in one process: op by op (one step per graph node) and fused
// (the optimizer's kernels as generated WebAssembly). The programs are fashion-32's at 32x32: the
// generator forward pass, the generator training step and the discriminator training step with R1.
// Prints the median wall time and the mean process CPU time (all threads) of each program per
// path, after two warm-up runs per path that include assembling and loading the generated module.
// Run: npx tsx bench/cpu-fused.ts [THREADS] [BATCH] [RUNS]   (defaults: one per core, 16, 7)

import { availableParallelism, cpus, loadavg } from 'node:os';
import { checkFile } from '../src/check/index.ts';
import { type Graph, numel } from '../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../src/layers/programs.ts';
import { initParams } from '../src/params/init.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { createCpuTarget } from '../targets/cpu/index.ts';

const threads = Number(process.argv[2] ?? availableParallelism());
const batch = Number(process.argv[3] ?? 16);
const runs = Number(process.argv[4] ?? 7);

const checked = checkFile('examples/fashion-32.sgan');
if (checked.spec === undefined) throw new Error('examples/fashion-32.sgan has errors; run sganc check on it');
const spec = checked.spec;
const params = initParams(spec, 1);

/** Parameters, RNG keys 7, mixing and truncation off, fade alpha 1, everything else from a fixed LCG in [-1, 1). */
function feedsFor(graph: Graph): TensorMap {
  let state = 1;
  const feeds: TensorMap = { ...params };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(7);
    else if (name === 'mix') data.fill(0);
    else if (name === 'trunc' || name === 'alpha') data.fill(1);
    else {
      for (let i = 0; i < data.length; i++) {
        state = (state * 16807) % 2147483647;
        data[i] = (state / 2147483647) * 2 - 1;
      }
    }
    feeds[name] = { shape, data };
  }
  return feeds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Timing {
  /** Median wall-clock ms per run. */
  wall: number;
  /** Mean process CPU ms per run, all threads together. */
  cpu: number;
}

/**
 * Times both paths on `graph`, alternating one run of each, so that load from other processes
 * falls on both alike. Returns op by op, then fused.
 */
async function timePaths(graph: Graph): Promise<[Timing, Timing]> {
  const feeds = feedsFor(graph);
  const paths = [false, true].map((fused) => createCpuTarget({ threads, fused }).compile(graph, fused ? 'fused' : 'op-by-op'));
  for (const program of paths) for (let i = 0; i < 2; i++) await program.run(feeds);
  const wall: number[][] = [[], []];
  const cpu = [0, 0];
  for (let i = 0; i < runs; i++) {
    for (let p = 0; p < paths.length; p++) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      await paths[p]!.run(feeds);
      wall[p]!.push(performance.now() - start);
      const used = process.cpuUsage(cpuStart);
      cpu[p]! += (used.user + used.system) / 1000;
    }
  }
  return [0, 1].map((p) => ({ wall: median(wall[p]!), cpu: cpu[p]! / runs })) as [Timing, Timing];
}

const programs: [string, Graph][] = [
  ['generator forward', buildGenerator(spec, { stage: 32, batch, fading: false, noise: 'random' })],
  ['generator step', buildGeneratorStep(spec, { stage: 32, batch, fading: false })],
  ['discriminator step + R1', buildDiscriminatorStep(spec, { stage: 32, batch, fading: false, r1Gamma: spec.train.r1Gamma })],
];

console.log(`cpu target, fashion-32 at 32x32, batch ${batch}, ${threads} threads, median wall time of ${runs} alternating runs`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| program | op by op, wall ms | fused, wall ms | wall speedup | op by op, CPU ms | fused, CPU ms | CPU time ratio |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, graph] of programs) {
  const [opByOp, fused] = await timePaths(graph);
  const row = [
    name,
    opByOp.wall.toFixed(1),
    fused.wall.toFixed(1),
    `${(opByOp.wall / fused.wall).toFixed(2)}x`,
    opByOp.cpu.toFixed(1),
    fused.cpu.toFixed(1),
    `${(opByOp.cpu / fused.cpu).toFixed(2)}x`,
  ];
  console.log(`| ${row.join(' | ')} |`);
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(0);
