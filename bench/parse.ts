// Times the front end on the example models: parse alone, parse + check (with the stdlib import)
// and fmt. Prints the first run, which is what one CLI call pays, then the median and the slowest
// of repeated runs after warm-up runs, in milliseconds. Run with `npx tsx bench/parse.ts [runs]`.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkSource } from '../src/check/index.ts';
import { formatSource } from '../src/frontend/format.ts';
import { parseSource } from '../src/frontend/parse.ts';

const runs = Number(process.argv[2] ?? 50);
const warmup = 10;
const files = ['examples/stylegan-ffhq-1024.sgan', 'examples/fashion-32.sgan'];

function time(run: () => unknown): { first: number; median: number; max: number } {
  const start = performance.now();
  run();
  const first = performance.now() - start;
  for (let i = 1; i < warmup; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { first, median: samples[Math.floor(samples.length / 2)]!, max: samples[samples.length - 1]! };
}

const rows: string[][] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const cases: [string, () => unknown][] = [
    ['parse', () => parseSource(text, file)],
    ['parse + check', () => checkSource(text, file)],
    ['fmt', () => formatSource(text, file)],
  ];
  for (const [phase, run] of cases) {
    const { first, median, max } = time(run);
    rows.push([file, phase, first.toFixed(2), median.toFixed(2), max.toFixed(2)]);
  }
  // Checked after timing, so that the first timed run is a cold one.
  const check = checkSource(text, file);
  if (check.spec === undefined) throw new Error(`${file} does not check: ${check.diagnostics.map((d) => d.message).join('; ')}`);
}

const header = ['file', 'phase', 'first ms', 'median ms', 'max ms'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
console.log(`${runs} runs after ${warmup} warm-up runs, Node ${process.version}`);
console.log(line(header));
for (const row of rows) console.log(line(row));
