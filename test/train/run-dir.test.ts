// A run directory's options.json on resume: missing means "not a run directory", and an unreadable
// one is an input error that the trainer reports with exit 1 instead of a stack trace.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
