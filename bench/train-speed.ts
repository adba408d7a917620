// Measures training speed in seconds per kimg at each resolution of a model. Each stable phase gets a
// short run in a temporary folder, through the same train() as `sganc train`, on the embedded data.
// Run: npx tsx bench/train-speed.ts [MODEL] [KIMG_PER_STAGE]
// (defaults: examples/fashion-32.sgan and 0.256). Prints one line per resolution.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkFile } from '../src/check/index.ts';
import { train } from '../src/runtime/trainer.ts';

const modelPath = process.argv[2] ?? 'examples/fashion-32.sgan';
const kimgPerStage = Number(process.argv[3] ?? 0.256);
const checked = checkFile(modelPath);
if (checked.spec === undefined) throw new Error(`${modelPath} has errors; run sganc check ${modelPath}`);
const spec = checked.spec;

for (const stage of spec.synthesis.stages) {
  if (stage.res < spec.train.grow.startRes) continue;
  // A recipe that starts at this resolution, so the run measures its stable phase alone.
  const recipe = { ...spec.train, grow: { ...spec.train.grow, startRes: stage.res } };
  const out = mkdtempSync(join(tmpdir(), 'sganc-bench-'));
  const lines: string[] = [];
  const result = await train({
    spec,
    recipe,
    modelText: readFileSync(modelPath, 'utf8'),
    modelHash: 'bench',
    options: {
      data: undefined,
      pad: false,
      upscale: false,
      target: 'auto',
      kimg: kimgPerStage,
      tickKimg: kimgPerStage,
      out,
      resume: undefined,
      seed: 0,
      snapshotTicks: 1,
    },
    print: (line) => lines.push(line),
  });
  const log = JSON.parse(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').at(-1)!) as {
    sec_per_kimg: number;
    batch: number;
    rss_mib: number;
  };
  rmSync(out, { recursive: true, force: true });
  console.log(
    `res ${String(stage.res).padStart(4)}  batch ${String(log.batch).padStart(3)}  ` +
      `${log.sec_per_kimg.toFixed(1).padStart(7)} sec/kimg  rss ${log.rss_mib} MiB  (${result.images} images)`,
  );
}
