// `sganc compile` and `sganc train` as a user runs them: child processes on a tiny model and the
// embedded data, in a temporary working folder so the compile cache stays out of the repository.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { tempDir } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SGANC = join(ROOT, 'bin', 'sganc.mjs');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MODEL = join(ROOT, 'test', 'train', 'fixtures', 'tiny-8.sgan');

function sganc(args: string[], cwd: string) {
  return spawnSync(process.execPath, [SGANC, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

describe('sganc train', () => {
  it('trains and writes the run files', () => {
    const cwd = tempDir('cli-train');
    const run = join(cwd, 'run');
    const result = sganc(['train', MODEL, '--kimg', '0.032', '--tick-kimg', '0.016', '--out', run], cwd);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Fashion-MNIST test split (embedded)');
    expect(result.stdout).toMatch(/ tick +kimg +res +alpha +sec\/tick +sec\/kimg +loss_g +loss_d +r1 +rss_mib/);
    expect(result.stdout).toContain('finished at kimg 0.032');
    expect(result.stdout).toContain(`fakes: ${join(run, 'fakes-000000.032.png')}`);
    const files = readdirSync(run);
    for (const name of ['model.sgan', 'options.json', 'log.jsonl', 'reals.png', 'losses.png', 'fakes-latest.png']) {
      expect(files, name).toContain(name);
    }
    expect(files).toContain('checkpoint-000000.016.safetensors');
    expect(files).toContain('checkpoint-000000.032.safetensors');
    expect(readFileSync(join(run, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readdirSync(join(cwd, '.sganc-cache'))).toHaveLength(1);
  });

  it('reuses the compile cache', () => {
    const cwd = tempDir('cli-cache');
    sganc(['train', MODEL, '--kimg', '0.004', '--out', join(cwd, 'a')], cwd);
    const result = sganc(['train', MODEL, '--kimg', '0.004', '--out', join(cwd, 'b')], cwd);
    expect(result.status).toBe(0);
    expect(readdirSync(join(cwd, '.sganc-cache'))).toHaveLength(1);
  });

  it('rejects an unknown target', () => {
    const cwd = tempDir('cli-target');
    const result = sganc(['train', MODEL, '--target', 'metal'], cwd);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown target 'metal'");
  });

  it('rejects an invalid budget', () => {
    const cwd = tempDir('cli-kimg');
    const result = sganc(['train', MODEL, '--kimg', 'ten'], cwd);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--kimg must be a positive number, got 'ten'");
  });

  it('reports a missing data folder', () => {
    const cwd = tempDir('cli-data');
    const missing = join(cwd, 'no-such-folder');
    const result = sganc(['train', MODEL, '--data', missing, '--out', join(cwd, 'run')], cwd);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(missing);
    expect(existsSync(join(cwd, 'run'))).toBe(false);
  });

  it('reports a missing resume directory with exit 1', () => {
    const cwd = tempDir('cli-resume');
    const missing = join(cwd, 'nothere');
    const result = sganc(['train', MODEL, '--resume', missing, '--kimg', '0.004'], cwd);
    expect(result.stderr).toBe(`sganc train: error: --resume ${missing}: directory not found\n`);
    expect(result.status).toBe(1);
    // A directory that exists but contains no run.
    const empty = join(cwd, 'empty');
    mkdirSync(empty);
    const notRun = sganc(['train', MODEL, '--resume', empty, '--kimg', '0.004'], cwd);
    expect(notRun.stderr).toBe(`sganc train: error: --resume ${empty}: options.json not found; is this a run directory?\n`);
    expect(notRun.status).toBe(1);
  });

  it('explains every option in --help', () => {
    const result = sganc(['train', '--help'], ROOT);
    expect(result.status).toBe(0);
    for (const flag of ['--data', '--pad', '--upscale', '--target', '--kimg', '--tick-kimg', '--out', '--resume', '--seed', '--snapshot-ticks']) {
      expect(result.stdout, flag).toContain(flag);
    }
  });

  it('writes a checkpoint on Ctrl-C', async () => {
    const cwd = tempDir('cli-sigint');
    const run = join(cwd, 'run');
    const child = spawn(process.execPath, [SGANC, 'train', MODEL, '--kimg', '50', '--tick-kimg', '0.004', '--snapshot-ticks', '1000', '--out', run], {
      cwd,
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      // Interrupt after the first two ticks; with --snapshot-ticks 1000 no checkpoint exists before.
      if (!interrupted && /\n +2 +0\.008 /.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolveExit) => child.on('exit', (status) => resolveExit(status)));
    expect(interrupted).toBe(true);
    expect(code).toBe(0);
    expect(stdout).toMatch(/interrupted at kimg 0\.0\d\d/);
    const checkpoints = readdirSync(run).filter((name) => name.startsWith('checkpoint-'));
    expect(checkpoints).toHaveLength(1);
  });
});

describe('sganc compile', () => {
  it('writes programs that name themselves in errors', () => {
    const cwd = tempDir('cli-names');
    const out = join(cwd, 'out');
    expect(sganc(['compile', MODEL, '--out', out], cwd).status).toBe(0);
    const tsx = (file: string, args: string[]) => spawnSync(TSX, [join(out, file), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

    const missing = join(cwd, 'nothere');
    const resumed = tsx('train.ts', ['--resume', missing]);
    expect(resumed.stderr).toBe(`train.ts: error: --resume ${missing}: directory not found\n`);
    expect(resumed.status).toBe(1);

    const unknown = tsx('train.ts', ['--bogus']);
    expect(unknown.stderr).toBe("train.ts: error: unknown option '--bogus'\nRun 'npx tsx train.ts --help' for the options.\n");
    expect(unknown.status).toBe(2);

    const sampled = tsx('generate.ts', ['--run', missing]);
    expect(sampled.stderr).toBe(`generate.ts: error: --run ${missing}: directory not found\n`);
    expect(sampled.status).toBe(1);
  });

  it('writes a trainer and sampler that run directly', () => {
    const cwd = tempDir('cli-compile');
    const out = join(cwd, 'out');
    const compiled = sganc(['compile', MODEL, '--out', out], cwd);
    expect(compiled.status).toBe(0);
    for (const name of ['train.ts', 'generate.ts', 'model.json', 'model.sgan', 'manifest.json', 'package.json']) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }

    const source = readFileSync(join(out, 'train.ts'), 'utf8');
    expect(source).toContain('r1Gamma: 1,');
    expect(source).toContain('grow: { startRes: 4, stableKimg: 0.008, fadeKimg: 0.008 },');
    expect(source).toContain('batch: { base: 4, perRes: { 4: 4, 8: 4 } },');
    expect(source).toContain('mirror: true,');

    // Stage 4 trains stable only; stage 8 fades and then is stable: 3 phases of 3 programs.
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.programs).toHaveLength(9);
    for (const program of manifest.programs) expect(program.primitiveOps, program.name).toBeGreaterThan(10);

    const run = join(cwd, 'run');
    // The last of 5 iterations starts at 16 images, in the stable 8x8 phase.
    const trained = spawnSync(TSX, [join(out, 'train.ts'), '--kimg', '0.02', '--out', run], { cwd, encoding: 'utf8', timeout: 120_000 });
    expect(trained.status).toBe(0);
    expect(existsSync(join(run, 'checkpoint-000000.020.safetensors'))).toBe(true);

    const grid = join(cwd, 'samples.png');
    const sampled = spawnSync(TSX, [join(out, 'generate.ts'), '--run', run, '--seeds', '0-3', '--psi', '0.5', '--out', grid], {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(sampled.stderr).toBe('');
    expect(sampled.status).toBe(0);
    expect(sampled.stdout).toContain('wrote 4 images at 8x8');
    expect(existsSync(grid)).toBe(true);

    // Crossover 0 takes every style from the mix seed, so mixing with seed 9 equals sampling seed 9.
    const sample = (args: string[], file: string): Buffer => {
      const result = spawnSync(TSX, [join(out, 'generate.ts'), '--run', run, '--out', join(cwd, file), ...args], { cwd, encoding: 'utf8' });
      expect(result.stderr, file).toBe('');
      return readFileSync(join(cwd, file));
    };
    const mixed = sample(['--seeds', '0-3', '--mix-seeds', '9', '--crossover', '0'], 'mixed.png');
    const plain = sample(['--seeds', '9,9,9,9'], 'plain.png');
    expect(mixed.equals(plain)).toBe(true);
  });
});
