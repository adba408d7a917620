// `sganc serve` as a process: usage errors, and a server on a free loopback port that serves the
// run API and only the run files it lists, and stops cleanly on SIGINT.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SGANC = join(ROOT, 'bin', 'sganc.mjs');

function sganc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [SGANC, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('sganc serve', () => {
  let work: string;
  let run: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'sganc-serve-'));
    // A run directory needs only model.sgan to be served; the other files appear as training writes them.
    run = join(work, 'run');
    spawnSync('mkdir', ['-p', run]);
    writeFileSync(join(run, 'model.sgan'), 'model tiny {}\n');
    writeFileSync(join(run, 'log.jsonl'), `${JSON.stringify({ tick: 1, kimg: 0.016 })}\n{"tick": 2, "kim`);
    writeFileSync(join(run, 'options.json'), '{}\n');
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('rejects an invalid port with exit 2', () => {
    const result = sganc('serve', '--port', 'eighty');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--port must be an integer in [0, 65535], got 'eighty'");
    expect(result.stderr).toContain("Run 'sganc serve --help' for the options.");
    expect(result.stderr).not.toContain('Usage: sganc serve');
  });

  it('rejects an empty port or host with exit 2', () => {
    const port = sganc('serve', '--port', '');
    expect(port.status).toBe(2);
    expect(port.stderr).toContain("--port must be an integer in [0, 65535], got ''");
    const host = sganc('serve', '--host', '');
    expect(host.status).toBe(2);
    expect(host.stderr).toContain('--host must not be empty');
  });

  it('rejects a missing run directory with exit 1', () => {
    const result = sganc('serve', join(work, 'nothing-here'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('nothing-here not found');
  });

  it('rejects a folder without model.sgan', () => {
    const result = sganc('serve', work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('has no model.sgan');
  });

  describe('running server', () => {
    let child: ChildProcess;
    let url: string;
    let output = '';

    beforeAll(async () => {
      child = spawn(process.execPath, [SGANC, 'serve', run, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // The first start may build the app, which takes a few seconds.
      const deadline = Date.now() + 90_000;
      while (!/at (http:\/\/\S+)/.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sganc serve did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      url = /at (http:\/\/\S+)/.exec(output)![1]!;
    });

    afterAll(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('listens on loopback', () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    });

    it('serves the app', async () => {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>sganc playground</title>');
    });

    it('describes the run', async () => {
      const response = await fetch(`${url}api/run`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { name: string; model: string; checkpoint: string | null; log: { tick: number }[] };
      expect(body.name).toBe('run');
      expect(body.model).toBe('model tiny {}\n');
      expect(body.checkpoint).toBeNull();
      // The half-written second line is left for a later poll.
      expect(body.log.map((record) => record.tick)).toEqual([1]);
    });

    it('serves only listed run files', async () => {
      expect((await fetch(`${url}api/run/files/model.sgan`)).status).toBe(200);
      expect((await fetch(`${url}api/run/files/options.json`)).status).toBe(404);
      expect((await fetch(`${url}api/run/files/..%2F..%2Fpackage.json`)).status).toBe(404);
      expect((await fetch(`${url}..%2Fpackage.json`)).status).toBe(404);
      expect((await fetch(`${url}api/run`, { method: 'POST' })).status).toBe(405);
    });

    it('stops on SIGINT with exit 0', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('server stopped');
    });
  });
});
