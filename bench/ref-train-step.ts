// Times one generator step and one discriminator step (with R1) of the fashion-32 example on the
// reference executor, and prints where the time goes per op.
// Run: npx tsx bench/ref-train-step.ts [stage] [batch]   (defaults: 32 and 32)

import { checkFile } from '../src/check/index.ts';
import { numel } from '../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../src/layers/programs.ts';
import { initParams } from '../src/params/init.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { runGraph } from '../targets/ref/run.ts';
import type { Graph } from '../src/ir/graph.ts';

const stage = Number(process.argv[2] ?? 32);
const batch = Number(process.argv[3] ?? 32);
const checked = checkFile('examples/fashion-32.sgan');
if (checked.spec === undefined) throw new Error('examples/fashion-32.sgan has errors');
const spec = checked.spec;
const params = initParams(spec, 1);

/** Feeds every input of `graph` that is not a parameter with values in [-1, 1), and keys with 7. */
function feedsFor(graph: Graph): TensorMap {
  const feeds: TensorMap = { ...params };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(7);
    else if (name === 'mix' || name === 'trunc') data.fill(name === 'trunc' ? 1 : 0);
    else for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
    feeds[name] = { shape, data };
  }
  return feeds;
}

function timeStep(label: string, graph: Graph): void {
  const feeds = feedsFor(graph);
  runGraph(graph, feeds);
  const profile = new Map<string, { ms: number; count: number }>();
  const start = performance.now();
  runGraph(graph, feeds, { profile });
  const total = performance.now() - start;
  console.log(`${label}: ${graph.nodes.length} nodes, ${total.toFixed(0)} ms`);
  const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  for (const [op, { ms, count }] of rows) {
    console.log(`  ${op.padEnd(20)} ${ms.toFixed(0).padStart(7)} ms ${String(count).padStart(5)} nodes`);
  }
}

timeStep(`G step, stage ${stage}, batch ${batch}`, buildGeneratorStep(spec, { stage, batch, fading: false }));
timeStep(`D step with R1, stage ${stage}, batch ${batch}`, buildDiscriminatorStep(spec, { stage, batch, fading: false, r1Gamma: spec.train.r1Gamma }));
