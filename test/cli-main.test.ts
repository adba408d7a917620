// The `sganc` dispatcher: help, version and unknown commands, run as a user runs them.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function sganc(args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'sganc.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('sganc', () => {
  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = sganc(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`sganc ${version}\n`);
  });

  it('lists the commands on --help', () => {
    const result = sganc(['--help']);
    expect(result.status).toBe(0);
    for (const name of ['check', 'compile', 'train', 'generate', 'metrics']) expect(result.stdout).toContain(`  ${name} `);
  });

  it('rejects an unknown command', () => {
    const result = sganc(['trian']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("sganc: unknown command 'trian'");
  });

  it('exits 2 without a command', () => {
    const result = sganc([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage: sganc COMMAND');
  });
});
