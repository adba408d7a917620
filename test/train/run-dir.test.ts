// Unreadable files of a run directory: options.json on resume, and a checkpoint that is not a
// safetensors file. Each is an input error that reportErrors prints with exit 1, not a stack trace.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint.ts';
import { reportErrors } from '../../src/runtime/train/entry.ts';
import { InputError } from '../../src/runtime/train/options.ts';
import { readOptions } from '../../src/runtime/train/run-dir.ts';
import { tempDir } from './helpers.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('readOptions', () => {
  it('missing file gives undefined', () => {
    expect(readOptions(tempDir('options-missing'))).toBeUndefined();
  });

  it('invalid JSON is an input error', () => {
    const dir = tempDir('options-invalid');
    writeFileSync(join(dir, 'options.json'), '{"options": ');
    expect(() => readOptions(dir)).toThrow(InputError);
    expect(() => readOptions(dir)).toThrow(`${join(dir, 'options.json')}: invalid JSON`);
  });

  it('invalid JSON exits 1 in the trainer', async () => {
    const dir = tempDir('options-exit');
    writeFileSync(join(dir, 'options.json'), 'not json');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const status = await reportErrors(async () => {
      readOptions(dir);
      return 0;
    }, 'train.ts');
    expect(status).toBe(1);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/^train\.ts: error: .*options\.json: invalid JSON/);
  });
});

describe('reportErrors', () => {
  it('corrupt checkpoint exits 1', async () => {
    const path = join(tempDir('checkpoint-corrupt'), 'checkpoint-000001.000.safetensors');
    writeFileSync(path, 'not a safetensors file');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const status = await reportErrors(async () => {
      loadCheckpoint(path, []);
      return 0;
    }, 'generate.ts');
    expect(status).toBe(1);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/^generate\.ts: error: .*checkpoint-000001\.000\.safetensors: /);
  });

  it('missing checkpoint file exits 1', async () => {
    const path = join(tempDir('checkpoint-missing'), 'checkpoint-000001.000.safetensors');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const status = await reportErrors(async () => {
      loadCheckpoint(path, []);
      return 0;
    }, 'generate.ts');
    expect(status).toBe(1);
    expect(String(stderr.mock.calls[0]![0])).toBe(`generate.ts: error: ${path}: file not found\n`);
  });
});
