// Compares the cpu target's two paths in one process: op by op (one step per graph node) and fused
// (the optimizer's kernels as generated WebAssembly), on the fashion-32 programs at 32x32: the
// generator forward pass, the generator training step and the discriminator training step with R1.
// Prints the median wall time of each program per path, after two warm-up runs that include
// assembling and loading the generated module.
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

async function timeRuns(graph: Graph, fused: boolean): Promise<number> {
  const program = createCpuTarget({ threads, fused }).compile(graph, fused ? 'fused' : 'op-by-op');
  const feeds = feedsFor(graph);
  for (let i = 0; i < 2; i++) await program.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await program.run(feeds);
    times.push(performance.now() - start);
  }
  return median(times);
}

const programs: [string, Graph][] = [
  ['generator forward', buildGenerator(spec, { stage: 32, batch, fading: false, noise: 'random' })],
  ['generator step', buildGeneratorStep(spec, { stage: 32, batch, fading: false })],
  ['discriminator step + R1', buildDiscriminatorStep(spec, { stage: 32, batch, fading: false, r1Gamma: spec.train.r1Gamma })],
];

console.log(`cpu target, fashion-32 at 32x32, batch ${batch}, ${threads} threads, median of ${runs} runs`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| program | op by op (ms) | fused (ms) | speedup |');
console.log('|---|---:|---:|---:|');
for (const [name, graph] of programs) {
  const opByOp = await timeRuns(graph, false);
  const fused = await timeRuns(graph, true);
  console.log(`| ${name} | ${opByOp.toFixed(1)} | ${fused.toFixed(1)} | ${(opByOp / fused).toFixed(2)}x |`);
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(0);
