// The generated trainer and sampler sources against reviewed golden files. Set UPDATE_GOLDEN=1 to
// rewrite the golden files after an intended change, then review the diff.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { checkFile } from '../../src/check/index.ts';
import { compileModel } from '../../src/emit/index.ts';
import { tempDir } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const GOLDEN_DIR = join(ROOT, 'test', 'train', 'golden');
const MODEL = join('test', 'train', 'fixtures', 'tiny-8.sgan');

/** Replaces the machine-specific relative path to this package by `<sganc>`. */
function normalise(source: string): string {
  return source.replace(/'(?:\.\.\/)+[^']*?\/src\//g, "'<sganc>/src/");
}

function compileTiny(): string {
  const result = checkFile(join(ROOT, MODEL));
  expect(result.spec, 'tiny-8.sgan has errors').toBeDefined();
  const out = join(tempDir('emit'), 'out');
  compileModel({ spec: result.spec!, modelText: readFileSync(join(ROOT, MODEL), 'utf8'), target: 'ref', outDir: out, modelFile: MODEL });
  return out;
}

describe('generated sources', () => {
  const out = compileTiny();

  for (const name of ['train.ts', 'generate.ts']) {
    it(`match the golden ${name}`, () => {
      const actual = normalise(readFileSync(join(out, name), 'utf8'));
      const golden = join(GOLDEN_DIR, `tiny-8.${name}.txt`);
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, actual);
      expect(actual).toBe(readFileSync(golden, 'utf8'));
    });
  }

  it('import the runtime by a relative path', () => {
    const source = readFileSync(join(out, 'train.ts'), 'utf8');
    const match = /from '(\.[^']*\/src\/runtime\/trainer\.ts)'/.exec(source);
    expect(match).not.toBeNull();
    expect(existsSync(resolve(out, match![1]!))).toBe(true);
  });
});
