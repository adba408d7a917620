// The training loop end to end on a tiny model: resume equals an uninterrupted run bit for bit, Adam
// restarts at a new resolution, and a non-finite loss stops the run without a new checkpoint.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { findLatestCheckpoint, loadCheckpoint } from '../../src/runtime/checkpoint.ts';
import { readSafetensors } from '../../src/runtime/safetensors.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { train, type TrainInput } from '../../src/runtime/trainer.ts';
import type { TrainOptions } from '../../src/runtime/train/options.ts';
import { refTarget } from '../../targets/ref/index.ts';
import { tempDir, tinyTrainSpec, writeImageFolder } from './helpers.ts';

let imageDir = '';

beforeAll(async () => {
  imageDir = await writeImageFolder();
});

function options(overrides: Partial<TrainOptions>): TrainOptions {
  return {
    data: imageDir,
    pad: false,
    upscale: false,
    target: 'ref',
    kimg: 0.008,
    tickKimg: 0.008,
    out: undefined,
    resume: undefined,
    seed: 5,
    snapshotTicks: 1,
    ...overrides,
  };
}

function input(overrides: Partial<TrainOptions>, extra: Partial<TrainInput> = {}): TrainInput {
  const spec = extra.spec ?? tinyTrainSpec();
  const lines: string[] = [];
  return {
    spec,
    recipe: spec.train,
    modelText: 'model tiny {}\n',
    modelHash: 'test-hash',
    options: options(overrides),
    print: (line) => lines.push(line),
    warn: (line) => lines.push(line),
    ...extra,
  };
}

function paramNames(): string[] {
  return tinyTrainSpec().params.map((p) => p.name);
}

describe('resume', () => {
  it.each(['ref', 'cpu'])('equals an uninterrupted run bit for bit on %s', async (target) => {
    const split = tempDir('split');
    const whole = tempDir('whole');

    // 0.012 kimg ends inside the 8x8 fade; the resumed part crosses into the stable phase.
    const first = await train(input({ out: split, kimg: 0.012, tickKimg: 0.004, target }));
    expect(first.outcome).toBe('finished');
    const second = await train(input({ resume: split, kimg: 0.028, tickKimg: 0.004, target }));
    expect(second.images).toBe(28);
    const uninterrupted = await train(input({ out: whole, kimg: 0.028, tickKimg: 0.004, target }));
    expect(uninterrupted.images).toBe(28);

    const a = readSafetensors(findLatestCheckpoint(split)!);
    const b = readSafetensors(findLatestCheckpoint(whole)!);
    expect(Object.keys(a.tensors).sort()).toEqual(Object.keys(b.tensors).sort());
    for (const name of Object.keys(b.tensors)) {
      expect(Buffer.from(a.tensors[name]!.data.buffer).equals(Buffer.from(b.tensors[name]!.data.buffer)), name).toBe(true);
    }
    const stateA = loadCheckpoint(findLatestCheckpoint(split)!, paramNames()).state;
    const stateB = loadCheckpoint(findLatestCheckpoint(whole)!, paramNames()).state;
    expect(stateA.rngState).toEqual(stateB.rngState);
    expect(stateA.adamSteps).toEqual(stateB.adamSteps);
    expect(stateA.res).toBe(8);
    expect(stateA.alpha).toBe(1);

    // The log of the split run has one record per tick of both parts.
    const log = readFileSync(join(split, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((r: { images: number }) => r.images)).toEqual([4, 8, 12, 16, 20, 24, 28]);
  });

  it('rejects a checkpoint of another model', async () => {
    const dir = tempDir('other');
    await train(input({ out: dir, kimg: 0.004 }));
    await expect(train(input({ resume: dir, kimg: 0.008 }, { modelHash: 'another-hash' }))).rejects.toThrow(/another model/);
  });

  it('rejects a checkpoint whose parameters differ', async () => {
    const dir = tempDir('other-params');
    await train(input({ out: dir, kimg: 0.004 }));
    const spec = tinyTrainSpec();
    const renamed = { ...spec, params: spec.params.map((p) => ({ ...p, name: `other.${p.name}` })) };
    const request = input({ resume: dir, kimg: 0.008 }, { spec: renamed, modelHash: 'another-hash' });
    await expect(train(request)).rejects.toThrow(/written for another model/);
  });

  it('rejects a different seed', async () => {
    const dir = tempDir('seed');
    await train(input({ out: dir, kimg: 0.004 }));
    const request = input({ resume: dir, kimg: 0.008, seed: 9 }, { given: new Set(['seed']) });
    await expect(train(request)).rejects.toThrow(/--seed 9 differs/);
  });

  it('rejects a --kimg already reached', async () => {
    const dir = tempDir('reached');
    await train(input({ out: dir, kimg: 0.008, tickKimg: 0.004 }));
    const logBefore = readFileSync(join(dir, 'log.jsonl'), 'utf8');
    await expect(train(input({ resume: dir, kimg: 0.004 }))).rejects.toThrow(/already at kimg 0\.008; give a larger --kimg/);
    expect(readFileSync(join(dir, 'log.jsonl'), 'utf8')).toBe(logBefore);
  });
});

describe('checkpoints', () => {
  it('keeps only the newest ones', async () => {
    const dir = tempDir('keep');
    await train(input({ out: dir, kimg: 0.016, tickKimg: 0.004, keepCheckpoints: 2 }));
    const names = readdirSync(dir).filter((name) => name.startsWith('checkpoint-')).sort();
    expect(names).toEqual(['checkpoint-000000.012.safetensors', 'checkpoint-000000.016.safetensors']);
  });
});

describe('fresh run', () => {
  it('rejects a folder with checkpoints', async () => {
    const dir = tempDir('reuse');
    await train(input({ out: dir, kimg: 0.004 }));
    await expect(train(input({ out: dir, kimg: 0.004 }))).rejects.toThrow(/already holds checkpoints .* --resume/);
  });
});

describe('Adam reset', () => {
  it('restarts the step count at the new resolution', async () => {
    const before = tempDir('adam-before');
    const after = tempDir('adam-after');
    // Iterations start at images 0 and 4 (4x4, level 0), then 8 (8x8 fade, level 1).
    await train(input({ out: before, kimg: 0.008 }));
    await train(input({ out: after, kimg: 0.012 }));
    const stateBefore = loadCheckpoint(findLatestCheckpoint(before)!, paramNames()).state;
    const stateAfter = loadCheckpoint(findLatestCheckpoint(after)!, paramNames()).state;
    expect(stateBefore.adamSteps).toEqual({ g: 2, d: 2 });
    expect(stateBefore.level).toBe(0);
    expect(stateAfter.adamSteps).toEqual({ g: 1, d: 1 });
    expect(stateAfter.level).toBe(1);
    expect(stateAfter.alpha).toBe(0);
  });

  it('keeps the moments within a resolution', async () => {
    const dir = tempDir('adam-moments');
    await train(input({ out: dir, kimg: 0.008 }));
    const { tensors } = loadCheckpoint(findLatestCheckpoint(dir)!, paramNames());
    const moments = Object.values(tensors.adamD).flatMap((t) => Array.from(t.data));
    expect(moments.some((v) => v !== 0)).toBe(true);
  });
});

/** Wraps the reference target so that the discriminator step's `loss_d` is NaN from call `failAt` on. */
function nanTarget(failAt: number): Target {
  let calls = 0;
  return {
    name: 'ref-with-nan',
    compile(graph, name): CompiledProgram {
      const program = refTarget.compile(graph, name);
      if (!name.endsWith('discriminator_step')) return program;
      return {
        graph: program.graph,
        async run(feeds: TensorMap): Promise<TensorMap> {
          const result = await program.run(feeds);
          calls += 1;
          if (calls >= failAt) result['loss_d'] = { shape: [], data: Float32Array.of(NaN) };
          return result;
        },
      };
    },
  };
}

describe('non-finite loss', () => {
  it('stops the run and keeps the last good checkpoint', async () => {
    const dir = tempDir('nan');
    const messages: string[] = [];
    const result = await train({
      ...input({ out: dir, kimg: 0.02, tickKimg: 0.004 }),
      target: nanTarget(3),
      warn: (line) => messages.push(line),
      program: 'train.ts',
    });
    expect(result.outcome).toBe('non-finite');
    expect(result.exitCode).toBe(1);
    const checkpoints = readdirSync(dir).filter((n) => n.startsWith('checkpoint-')).sort();
    expect(checkpoints).toEqual(['checkpoint-000000.004.safetensors', 'checkpoint-000000.008.safetensors']);
    const text = messages.join('\n');
    expect(text).toContain('train.ts: error: loss_d is NaN at kimg 0.008');
    expect(text).toContain('checkpoint-000000.008.safetensors');
  });
});

describe('run directory', () => {
  it('holds the files of a finished run', async () => {
    const dir = tempDir('files');
    const result = await train(input({ out: dir, kimg: 0.008, tickKimg: 0.004, snapshotTicks: 2 }));
    for (const name of ['model.sgan', 'options.json', 'log.jsonl', 'reals.png', 'losses.png', 'fakes-latest.png', 'fakes-000000.008.png']) {
      expect(existsSync(join(dir, name)), name).toBe(true);
    }
    // snapshot every 2 ticks: the first tick (0.004) writes no checkpoint.
    expect(existsSync(join(dir, 'checkpoint-000000.004.safetensors'))).toBe(false);
    expect(result.checkpoint).toBe(join(dir, 'checkpoint-000000.008.safetensors'));
    const record = JSON.parse(readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n')[0]!);
    for (const key of ['kimg', 'resolution', 'alpha', 'sec_per_kimg', 'loss_g', 'loss_d', 'r1', 'score_real', 'score_fake']) {
      expect(typeof record[key], key).toBe('number');
    }
  });
});
