// Measures training speed at the final resolution of fashion-32 on one target: the stable phase
// alone, through the same train() as `sganc train`, on the embedded data. Prints sec/kimg per tick
// (two ticks), the wall time and the process CPU seconds of all threads, which compare targets better
// than wall time on a shared machine.
// Run: npx tsx bench/cpu-train-speed.ts [TARGET] [KIMG] [THREADS]   (defaults: cpu, 0.512 and one per core)

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkFile } from '../src/check/index.ts';
import { train } from '../src/runtime/trainer.ts';

const modelPath = 'examples/fashion-32.sgan';
const target = process.argv[2] ?? 'cpu';
const kimg = Number(process.argv[3] ?? 0.512);
const threads = process.argv[4] === undefined ? undefined : Number(process.argv[4]);

const checked = checkFile(modelPath);
if (checked.spec === undefined) throw new Error(`${modelPath} has errors; run sganc check ${modelPath}`);
const spec = checked.spec;
// A recipe that starts at the final resolution, so the run measures its stable phase alone.
const recipe = { ...spec.train, grow: { ...spec.train.grow, startRes: spec.resolution } };
const out = mkdtempSync(join(tmpdir(), 'sganc-bench-'));

const cpuStart = process.cpuUsage();
const wallStart = performance.now();
await train({
  spec,
  recipe,
  modelText: readFileSync(modelPath, 'utf8'),
  modelHash: 'bench',
  options: {
    data: undefined,
    pad: false,
    upscale: false,
    target,
    threads,
    kimg,
    tickKimg: kimg / 2,
    out,
    resume: undefined,
    seed: 0,
    snapshotTicks: 10,
  },
  print: () => undefined,
});
const wallSeconds = (performance.now() - wallStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
const ticks = readFileSync(join(out, 'log.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => (JSON.parse(line) as { sec_per_kimg: number }).sec_per_kimg.toFixed(1));
rmSync(out, { recursive: true, force: true });

const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`target ${target}, ${kimg} kimg at ${spec.resolution}x${spec.resolution}: sec/kimg per tick ${ticks.join(', ')}`);
console.log(`wall ${wallSeconds.toFixed(1)} s, process CPU ${cpuSeconds.toFixed(1)} s (${(cpuSeconds / kimg).toFixed(1)} CPU s/kimg)`);
