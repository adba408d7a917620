// The benchmark suite: sganc's targets against TensorFlow.js (cpu, wasm), PyTorch and ONNX Runtime
// on StyleGAN cases, each checked against the ref target before it is timed. Prints a Markdown
// table (or JSON rows with --json) and writes the generated section of docs/benchmarks.md.
// Run: npm run bench [-- --quick] [-- --json]; --help lists the options.

import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { startRefWorkers } from '../targets/ref/index.ts';
import { getTarget } from '../targets/index.ts';
import { type BenchCase, buildCases, matmulCase } from './suite/cases.ts';
import { sgancEngines } from './suite/engine-sganc.ts';
import { tfjsEngine, tfjsVersion } from './suite/engine-tfjs.ts';
import { ensureTorch, loadOnnxRuntime, measurePeak, onnxEngine, TorchProcess, torchEngine } from './suite/engine-torch.ts';
import { currentLoad, machineInfo } from './suite/machine.ts';
import { formatSection, formatTable, type RunInfo, writeSection } from './suite/report.ts';
import { DEFAULT_TOLERANCE, type Engine, jsonRows, measureRow, type Row, type TimingOptions } from './suite/rows.ts';

const HELP = `Usage: npm run bench -- [options]

  --quick            fewer cases and shorter timing (about 2 to 3 minutes on 2 cores); does not
                     update docs/benchmarks.md
  --json             print the rows as JSON (case, engine, ms, gflops, ...) instead of the table
  --cases IDS        comma-separated case ids to run (ids are in the JSON output; 'tiny' is a
                     4x4 matmul for tests); filtering skips the docs update
  --engines NAMES    comma-separated engine name prefixes to run, such as 'sganc,torch'
  --threads N        threads of the cpu target, PyTorch and ONNX Runtime (default: one per core)
  --no-docs          do not update docs/benchmarks.md
  --help             print this help
`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    cases: { type: 'string' },
    engines: { type: 'string' },
    threads: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) {
  process.stderr.write(`invalid --threads ${values.threads}: expected a positive integer\n`);
  process.exit(2);
}
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const timing: TimingOptions = values.quick
  ? { warmup: 1, minRuns: 1, maxRuns: 10, budgetMs: 800 }
  : { warmup: 2, minRuns: 3, maxRuns: 30, budgetMs: 4000 };

function selectCases(): BenchCase[] {
  const wanted = values.cases?.split(',').map((s) => s.trim());
  if (wanted?.length === 1 && wanted[0] === 'tiny') return [{ ...matmulCase('tiny', 'tiny', 4, 4, 4) }];
  const all = buildCases({ quick: values.quick });
  if (wanted === undefined) return all;
  const unknown = wanted.filter((id) => !all.some((c) => c.id === id));
  if (unknown.length > 0) {
    log(`unknown case ids: ${unknown.join(', ')}; known: tiny, ${all.map((c) => c.id).join(', ')}`);
    process.exit(2);
  }
  return all.filter((c) => wanted.includes(c.id));
}

function engineWanted(name: string): boolean {
  if (values.engines === undefined) return true;
  return values.engines.split(',').some((prefix) => name.startsWith(prefix.trim()));
}

const info: RunInfo = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  machine: machineInfo(),
  versions: [`TensorFlow.js ${tfjsVersion()}`],
  skippedEngines: [],
  caseNotes: [],
  timing: '',
};
info.timing = [
  `Timing: each row runs once as the correctness gate, which passes when every output is within ${DEFAULT_TOLERANCE} of the ref target's, relative to that output's largest value.`,
  `Then come ${timing.warmup - 1} more warm-up run(s) and ${timing.minRuns} to ${timing.maxRuns} timed runs, as many as fit in about ${timing.budgetMs / 1000} s, and the table gives their median.`,
  "GFLOP counts 2 per multiply-add of the matmuls and convolutions in sganc's graph of the case, and elementwise ops are not counted.",
  'sganc runs nearest upsample + 3x3 conv as one stride-2 transposed conv with 4x4 taps, 2.25x fewer multiply-adds than the direct form that the peers run, and every engine is credited with the same count.',
  '"vs fastest peer" divides by the fastest non-sganc engine of the case.',
  'Kernels per run: sganc cpu counts the ops its profile dispatched, sganc ref and other targets without a profile the primitive ops of the graph,',
  "TensorFlow.js the kernels of tf.profile, PyTorch the leaf ops of its autograd profiler, ONNX Runtime the node kernels of its profiler.",
].join(' ');

const cases = selectCases();
const engines: Engine[] = [];
const { engines: targets, skipped } = sgancEngines(threads);
engines.push(...targets.filter((e) => engineWanted(e.name)));
info.skippedEngines.push(...skipped);

for (const backend of ['cpu', 'wasm'] as const) if (engineWanted(`tfjs ${backend}`)) engines.push(tfjsEngine(backend));
info.skippedEngines.push('tfjs webgpu: @tensorflow/tfjs-backend-webgpu is not installed (only tfjs-core, -backend-cpu and -backend-wasm are)');

let torch: TorchProcess | undefined;
const wantsPython = engineWanted(`torch ${threads}t`) || engineWanted(`onnxruntime ${threads}t`);
if (wantsPython) {
  const missing = ensureTorch(log);
  if (missing === undefined) {
    torch = new TorchProcess(threads);
    const hello = await torch.request({ cmd: 'hello' });
    info.versions.push(`PyTorch ${String(hello.torch)} (${String(hello.threads)} threads)`);
    if (engineWanted(`torch ${threads}t`)) engines.push(torchEngine(torch, threads));
    if (engineWanted(`onnxruntime ${threads}t`)) {
      const ortMissing = await loadOnnxRuntime(log);
      if (ortMissing === undefined) engines.push(onnxEngine(torch, threads));
      else info.skippedEngines.push(`onnxruntime: ${ortMissing}`);
    }
  } else {
    info.skippedEngines.push(`torch and onnxruntime: ${missing}`);
  }
}

if (torch !== undefined) info.peak = await measurePeak(torch, threads, values.quick ? 3 : 10);

// Start the ref executor's worker threads before the first timed run.
await startRefWorkers();
const reference = getTarget('ref');
const rows: Row[] = [];
for (const c of cases) {
  let refOutputs: TensorMap | undefined;
  if (c.peer.kind !== 'compile') {
    refOutputs = {};
    for (const p of c.programs) {
      const result = await reference.compile(p.graph, `${c.id}-${p.name}`).run(c.feeds);
      for (const [name, t] of Object.entries(result)) refOutputs[`${p.name}/${name}`] = t;
    }
  }
  if (c.skipOutputs !== undefined) info.caseNotes.push(`${c.label}: ${c.skipOutputs.reason}`);
  if (c.tolerance !== undefined) info.caseNotes.push(`${c.label}: tolerance ${c.tolerance.value}, because ${c.tolerance.reason}.`);
  for (const engine of engines) {
    const row = await measureRow(c, engine, refOutputs, timing);
    rows.push(row);
    const ms = row.ms === null ? '' : `${row.ms.toFixed(1)} ms`;
    log(`${c.id.padEnd(18)} ${engine.name.padEnd(16)} ${row.status.padEnd(8)} ${ms.padStart(10)} load ${currentLoad().toFixed(2)} ${row.note}`);
  }
}
info.machine.loadEnd = currentLoad();
// Other processes share the cores, so the full run measures the peak again at the end and keeps the higher one.
if (torch !== undefined && info.peak !== undefined && !values.quick) {
  const again = await measurePeak(torch, threads, 10);
  if (again.gflops > info.peak.gflops) info.peak = again;
  info.peak.method += ', the higher of two measurements at the start and the end of the run';
}
torch?.close();

const sgancNames = new Set(engines.filter((e) => e.sganc).map((e) => e.name));
info.versions.push(`tfjs-backend-wasm threads: ${(() => {
  try {
    return getThreadsCount();
  } catch {
    return 'not initialized';
  }
})()}`);
const table = formatTable(rows, cases, sgancNames, info.peak?.gflops);
if (values.json) {
  process.stdout.write(`${JSON.stringify(jsonRows(rows), null, 2)}\n`);
} else {
  process.stdout.write(`${formatSection(info, table)}\n`);
}
const filtered = values.cases !== undefined || values.engines !== undefined;
// A quick run's shorter table would replace the full one, so only full runs write the page.
if (!values['no-docs'] && !filtered && !values.quick) {
  writeSection('docs/benchmarks.md', formatSection(info, table));
  log('wrote the generated section of docs/benchmarks.md');
}
// The cpu target's and the ref executor's worker threads would keep the process alive.
process.exit(rows.some((r) => r.status === 'mismatch' || r.status === 'failed') ? 1 : 0);
