// Checks that the reference executor gives identical bits with and without worker threads, and
// times one fashion-32 discriminator step (with R1) both ways.
// Run: npx tsx bench/ref-threads.ts [stage] [batch]   (defaults: 32 and 32)

import { checkFile } from '../src/check/index.ts';
import { type Graph, numel } from '../src/ir/graph.ts';
import { buildDiscriminatorStep } from '../src/layers/programs.ts';
import { initParams } from '../src/params/init.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { startRefWorkers } from '../targets/ref/parallel.ts';
import { runGraph } from '../targets/ref/run.ts';

const stage = Number(process.argv[2] ?? 32);
const batch = Number(process.argv[3] ?? 32);
const checked = checkFile('examples/fashion-32.sgan');
if (checked.spec === undefined) throw new Error('examples/fashion-32.sgan has errors');
const spec = checked.spec;

function feedsFor(graph: Graph): TensorMap {
  const feeds: TensorMap = { ...initParams(spec, 1) };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + name.length);
    feeds[name] = { shape, data };
  }
  return feeds;
}

function timeRun(graph: Graph, feeds: TensorMap): { ms: number; out: TensorMap } {
  const start = performance.now();
  const out = runGraph(graph, feeds);
  return { ms: performance.now() - start, out };
}

const graph = buildDiscriminatorStep(spec, { stage, batch, fading: false, r1Gamma: spec.train.r1Gamma });
const feeds = feedsFor(graph);

process.env.SGAN_REF_THREADS = '1';
const single = timeRun(graph, feeds);
const singleAgain = timeRun(graph, feeds);
delete process.env.SGAN_REF_THREADS;
const ready = await startRefWorkers();
const multi = timeRun(graph, feeds);
const multiAgain = timeRun(graph, feeds);

let mismatches = 0;
for (const [name, tensor] of Object.entries(single.out)) {
  const other = multi.out[name]!.data;
  for (let i = 0; i < tensor.data.length; i++) if (!Object.is(tensor.data[i], other[i])) mismatches++;
}
console.log(`D step, stage ${stage}, batch ${batch}: 1 thread ${Math.min(single.ms, singleAgain.ms).toFixed(0)} ms, ` +
  `${ready + 1} threads ${Math.min(multi.ms, multiAgain.ms).toFixed(0)} ms, ${mismatches} differing output values`);
