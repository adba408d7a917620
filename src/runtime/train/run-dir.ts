// The files of a run directory other than checkpoints: the model copy, options.json, log.jsonl, the
// reals and fakes grids and the loss plot.

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { kimgLabel } from '../checkpoint.ts';
import { writeImageGrid } from '../images.ts';
import { writeLossPlot } from '../plot.ts';
import type { Tensor } from '../tensor.ts';
import { InputError, type TrainOptions } from './options.ts';

/** One line of log.jsonl: the means over the iterations of one tick. */
export interface TickRecord {
  tick: number;
  /** Images shown at the end of the tick; kimg = images / 1000. */
  images: number;
  kimg: number;
  resolution: number;
  alpha: number;
  batch: number;
  lr: number;
  sec_per_tick: number;
  sec_per_kimg: number;
  loss_g: number;
  loss_d: number;
  r1: number;
  score_real: number;
  score_fake: number;
  rss_mib: number;
  /** Frechet distance of the EMA generator's images to the reals, on ticks that measure it. */
  fd?: number;
  /** Images per set behind `fd`. */
  fd_samples?: number;
  /** ISO time at the end of the tick. */
  time: string;
}

export const MODEL_COPY_NAME = 'model.sgan';
const OPTIONS_NAME = 'options.json';
const LOG_NAME = 'log.jsonl';

/** Saved form of the options: the TrainOptions plus what the run was made from. */
export interface SavedOptions {
  options: TrainOptions;
  model: string;
  target: string;
  modelHash: string;
}

export function ensureRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

export function writeModelCopy(dir: string, modelText: string): void {
  writeFileAtomic(join(dir, MODEL_COPY_NAME), modelText);
}

export function writeOptions(dir: string, saved: SavedOptions): void {
  writeFileAtomic(join(dir, OPTIONS_NAME), JSON.stringify(saved, null, 2) + '\n');
}

/**
 * Returns the options a run was started with, or undefined when the run has no options.json.
 * Throws InputError when the file cannot be read or parsed, so --resume exits 1 with its path.
 */
export function readOptions(dir: string): SavedOptions | undefined {
  const path = join(dir, OPTIONS_NAME);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SavedOptions;
  } catch (error) {
    throw new InputError(`${path}: invalid JSON: ${(error as Error).message}`);
  }
}

export function appendLog(dir: string, record: TickRecord): void {
  appendFileSync(join(dir, LOG_NAME), JSON.stringify(record) + '\n');
}

/**
 * Returns the log records up to `maxImages` and rewrites log.jsonl to hold only those, so that a
 * resumed run does not keep ticks that happened after its checkpoint.
 */
export function truncateLog(dir: string, maxImages: number): TickRecord[] {
  const path = join(dir, LOG_NAME);
  if (!existsSync(path)) return [];
  const records: TickRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: TickRecord;
    try {
      record = JSON.parse(line) as TickRecord;
    } catch {
      // A line cut short by a crash; the ticks before it are still valid.
      break;
    }
    if (record.images > maxImages) break;
    records.push(record);
  }
  writeFileAtomic(path, records.map((r) => JSON.stringify(r) + '\n').join(''));
  return records;
}

/** Writes `fakes-<kimg>.png` and `fakes-latest.png`. Returns the path of the first. */
export async function writeFakes(dir: string, images: Tensor, imagesShown: number, scale: number): Promise<string> {
  const path = join(dir, `fakes-${kimgLabel(imagesShown)}.png`);
  await writeImageGrid(path, images, { scale });
  const latest = join(dir, 'fakes-latest.png');
  copyFileSync(path, latest + '.tmp');
  renameSync(latest + '.tmp', latest);
  return path;
}

export async function writeReals(dir: string, images: Tensor, scale: number): Promise<string> {
  const path = join(dir, 'reals.png');
  await writeImageGrid(path, images, { scale });
  return path;
}

/** Redraws losses.png from every tick so far. */
export async function writeLosses(dir: string, records: readonly TickRecord[]): Promise<void> {
  const series = (['loss_g', 'loss_d', 'r1'] as const).map((name) => ({
    name,
    points: records.map((r): [number, number] => [r.kimg, r[name]]),
  }));
  await writeLossPlot(join(dir, 'losses.png'), series, { xLabel: 'kimg', title: 'losses per tick' });
}

function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
