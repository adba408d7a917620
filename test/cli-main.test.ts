// The `sganc` dispatcher: help, version and unknown commands, run as a user runs them.

import { spawn, spawnSync } from 'node:child_process';
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
    expect(result.stderr).toBe("sganc: error: unknown command 'trian'; did you mean 'train'?\nRun 'sganc --help' for the commands.\n");
    const unrelated = sganc(['xyz']);
    expect(unrelated.status).toBe(2);
    expect(unrelated.stderr).toBe("sganc: error: unknown command 'xyz'\nRun 'sganc --help' for the commands.\n");
  });

  it('prints a hint, not the help, on usage errors', () => {
    // One command per way of reporting: the shared helper, eval's own parser and the sampling commands.
    const cases: [string[], string][] = [
      [['check'], 'sganc check: error: expected one model file, got 0 arguments'],
      [['eval', 'model.sgan'], 'sganc eval: error: missing required option --network'],
      [['generate', 'run', '--bogus'], "sganc generate: error: unknown option '--bogus'"],
      [['check', 'model.sgan', '--jsn'], "sganc check: error: unknown option '--jsn'; did you mean '--json'?"],
      [['eval', 'model.sgan', '--netwrk', 'generator'], "sganc eval: error: unknown option '--netwrk'; did you mean '--network'?"],
      [['generate', 'run', '--seed', '1'], "sganc generate: error: unknown option '--seed'; did you mean '--seeds'?"],
      [['metrics', 'run', '--scale', '3'], 'sganc metrics: error: --scale upscales written images, and metrics writes none'],
    ];
    for (const [args, message] of cases) {
      const result = sganc(args);
      const command = args[0]!;
      expect(result.stderr, command).toBe(`${message}\nRun 'sganc ${command} --help' for the options.\n`);
      expect(result.status, command).toBe(2);
    }
  });

  it('exits quietly on a closed pipe', async () => {
    // The reader closes stdout before sganc writes, as `| head -1` does after its line.
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sganc.mjs'), 'graph', join(ROOT, 'examples', 'fashion-32.sgan'), '--network', 'generator', '--stage', '32'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints the full help on --help', () => {
    const result = sganc(['check', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: sganc check FILE/);
    expect(result.stdout).toContain('--json');
  });

  it('exits 2 without a command', () => {
    const result = sganc([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage: sganc COMMAND');
  });
});
