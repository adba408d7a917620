// The sampling commands as a user runs them: child processes on a short run of the tiny 8x8 model,
// with image sizes read back from the written files.

import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from '../train/helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SGANC = join(ROOT, 'bin', 'sganc.mjs');
const MODEL = join(ROOT, 'test', 'train', 'fixtures', 'tiny-8.sgan');

let cwd = '';
let run = '';

function sganc(args: string[]) {
  return spawnSync(process.execPath, [SGANC, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

/** Cell size at the default scale: 8x8 images are upscaled 8 times, and so is the 2-pixel padding. */
const CELL = 64;
const PAD = 16;
const gridSide = (cells: number): number => cells * CELL + (cells + 1) * PAD;

async function pixels(path: string): Promise<{ width: number; height: number; data: Buffer }> {
  // The grids are gray PNGs, but sharp decodes them to RGB, so keep one channel.
  const { data, info } = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(1);
  return { width: info.width, height: info.height, data };
}

/** Returns the gray values of grid cell (row, col) of a single-channel PNG grid. */
function cell(image: { width: number; data: Buffer }, row: number, col: number): number[] {
  const values: number[] = [];
  for (let y = 0; y < CELL; y++) {
    for (let x = 0; x < CELL; x++) {
      values.push(image.data[(PAD + row * (CELL + PAD) + y) * image.width + PAD + col * (CELL + PAD) + x]!);
    }
  }
  return values;
}

beforeAll(() => {
  cwd = tempDir('sample-cli');
  run = join(cwd, 'run');
  const trained = spawnSync(process.execPath, [SGANC, 'train', MODEL, '--kimg', '0.032', '--tick-kimg', '0.016', '--out', run], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(trained.status, trained.stderr).toBe(0);
}, 120_000);

describe('sganc generate', () => {
  it('writes a square grid', async () => {
    const out = join(cwd, 'grid.png');
    const result = sganc(['generate', run, '--seeds', '0-15', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('wrote 16 images at 8x8');
    const image = await pixels(out);
    expect(image.width).toBe(gridSide(4));
    expect(image.height).toBe(gridSide(4));
  });

  it('writes one file per seed that matches the grid', async () => {
    const outdir = join(cwd, 'seeds');
    const grid = join(cwd, 'pair.png');
    expect(sganc(['generate', run, '--seeds', '3,4', '--outdir', outdir]).status).toBe(0);
    expect(sganc(['generate', join(run, 'checkpoint-000000.032.safetensors'), '--seeds', '4', '--cols', '1', '--out', grid]).status).toBe(0);
    expect(readdirSync(outdir).sort()).toEqual(['seed0003.png', 'seed0004.png']);
    const single = await pixels(join(outdir, 'seed0004.png'));
    expect(single.width).toBe(CELL);
    expect(single.height).toBe(CELL);
    // Seed 4 alone in a batch of one gives the same pixels as in a batch with seed 3.
    expect(cell(await pixels(grid), 0, 0)).toEqual(Array.from(single.data));
  });

  it('rejects a bad seed range', () => {
    const result = sganc(['generate', run, '--seeds', '5-2', '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--seeds: range '5-2' ends before it starts");
  });

  it('reports a missing run with exit 1', () => {
    const result = sganc(['generate', join(cwd, 'no-run'), '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no such run directory or checkpoint file');
  });

  it('reports a damaged checkpoint', () => {
    const broken = join(cwd, 'broken');
    const file = join(broken, 'checkpoint-000001.safetensors');
    spawnSync('mkdir', ['-p', broken]);
    writeFileSync(file, 'not a safetensors file');
    copyFileSync(join(run, 'model.sgan'), join(broken, 'model.sgan'));
    const result = sganc(['generate', broken, '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(file);
  });
});

describe('missing input files', () => {
  // A missing or unreadable file is an input error (exit 1), not a usage error (exit 2). Every
  // sampling command opens its run through the same code, so metrics stands for the others here.
  it('exit 1 for a missing run', () => {
    const missing = join(cwd, 'nothere');
    const result = sganc(['metrics', missing, '--samples', '10']);
    expect(result.stderr).toBe(`sganc metrics: error: ${missing}: no such run directory or checkpoint file\n`);
    expect(result.status).toBe(1);
  });

  it('exit 1 for a run without checkpoints', () => {
    const empty = join(cwd, 'empty-run');
    spawnSync('mkdir', ['-p', empty]);
    const result = sganc(['metrics', empty, '--samples', '10']);
    expect(result.stderr).toContain('no checkpoint-*.safetensors in that directory');
    expect(result.status).toBe(1);
  });

  it('exit 1 for a missing model file', () => {
    const checkpoint = readdirSync(run).find((name) => name.startsWith('checkpoint-'))!;
    const model = join(cwd, 'no-model.sgan');
    const result = sganc(['generate', join(run, checkpoint), '--model', model, '--out', join(cwd, 'x.png')]);
    expect(result.stderr).toContain(`model file ${model} not found`);
    expect(result.status).toBe(1);
  });

  it('exit 1 for a model with errors', () => {
    const checkpoint = readdirSync(run).find((name) => name.startsWith('checkpoint-'))!;
    const model = join(cwd, 'broken-model.sgan');
    writeFileSync(model, 'model broken {\n');
    const result = sganc(['generate', join(run, checkpoint), '--model', model, '--out', join(cwd, 'x.png')]);
    expect(result.stderr).toContain(`model ${model} has errors`);
    expect(result.status).toBe(1);
  });
});

describe('sganc mix', () => {
  it('lays out sources and cells', async () => {
    const out = join(cwd, 'mix.png');
    const result = sganc(['mix', run, '--rows', '1,2,3', '--cols', '10,11,12,13', '--styles', 'coarse', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const image = await pixels(out);
    expect(image.width).toBe(gridSide(5));
    expect(image.height).toBe(gridSide(4));
  });

  it('gives the column image when every style and no noise is mixed', async () => {
    const out = join(cwd, 'mix-all.png');
    const result = sganc(['mix', run, '--rows', '1', '--cols', '2', '--styles', '0-3', '--noise', 'none', '--out', out]);
    expect(result.status).toBe(0);
    const image = await pixels(out);
    expect(cell(image, 1, 1)).toEqual(cell(image, 0, 1));
    expect(cell(image, 1, 1)).not.toEqual(cell(image, 1, 0));
  });

  it('rejects empty fine styles at 8x8', () => {
    const result = sganc(['mix', run, '--rows', '1', '--cols', '2', '--styles', 'fine', '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('has no style layers at 64x64 and up, so the fine styles are empty');
  });

  it('rejects a style layer out of range', () => {
    const result = sganc(['mix', run, '--rows', '1', '--cols', '2', '--styles', '2-9', '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('style layer 9 is out of range; the generator at 8x8 has 4 style layers, 0-3');
  });
});

describe('sganc noise, interp and truncation', () => {
  it('noise adds the deviation image', async () => {
    const out = join(cwd, 'noise.png');
    const result = sganc(['noise', run, '--seed', '3', '--samples', '8', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const image = await pixels(out);
    // 8 samples and the deviation image make 9 cells, a 3 x 3 grid.
    expect(image.width).toBe(gridSide(3));
    expect(image.height).toBe(gridSide(3));
  });

  it('interp writes an animated GIF', async () => {
    for (const space of ['z', 'w']) {
      const out = join(cwd, `interp-${space}.gif`);
      const result = sganc(['interp', run, '--from', '1', '--to', '2', '--frames', '5', '--space', space, '--out', out]);
      expect(result.stderr, space).toBe('');
      expect(result.status, space).toBe(0);
      const meta = await sharp(out, { animated: true }).metadata();
      expect(meta.format, space).toBe('gif');
      expect(meta.pages, space).toBe(5);
      expect(meta.width, space).toBe(CELL);
      expect(meta.pageHeight, space).toBe(CELL);
    }
  });

  it('truncation at psi 1 equals generate without truncation', async () => {
    const out = join(cwd, 'trunc.png');
    const plain = join(cwd, 'plain.png');
    const result = sganc(['truncation', run, '--seeds', '0-1', '--psi', '1,0', '--out', out]);
    expect(result.status).toBe(0);
    expect(sganc(['generate', run, '--seeds', '0-1', '--trunc', '1', '--cols', '1', '--out', plain]).status).toBe(0);
    const grid = await pixels(out);
    expect(grid.width).toBe(gridSide(2));
    expect(grid.height).toBe(gridSide(2));
    const untruncated = await pixels(plain);
    expect(cell(grid, 0, 0)).toEqual(cell(untruncated, 0, 0));
    expect(cell(grid, 1, 0)).toEqual(cell(untruncated, 1, 0));
  });

  it('rejects an invalid psi list', () => {
    const result = sganc(['truncation', run, '--psi', '1,x', '--out', join(cwd, 'x.png')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--psi: invalid number 'x' in '1,x'");
  });

  it('explains every option in --help', () => {
    const commands: [string, string[]][] = [
      ['generate', ['--seeds', '--out', '--outdir', '--trunc', '--cutoff', '--noise', '--target', '--threads']],
      ['mix', ['--rows', '--cols', '--styles', 'coarse', 'middle', 'fine']],
      ['noise', ['--seed', '--samples']],
      ['interp', ['--from', '--to', '--frames', '--space']],
      ['truncation', ['--seeds', '--psi', '--cutoff']],
    ];
    for (const [command, flags] of commands) {
      const result = sganc([command, '--help']);
      expect(result.status, command).toBe(0);
      for (const flag of flags) expect(result.stdout, `${command} ${flag}`).toContain(flag);
    }
  });
});
