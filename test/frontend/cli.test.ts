// The sganc CLI as a user runs it: exit codes, the check summary and JSON, fmt --write and graph.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.ts';

function sganc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/sganc.mjs', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('sganc CLI', () => {
  it('check --json prints the summary', () => {
    const result = sganc('check', 'examples/stylegan-ffhq-1024.sgan', '--json');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(Object.keys(summary)).toEqual(['z', 'w', 'channels', 'resolution', 'networks', 'styleLayers', 'stages']);
    expect(summary).toMatchObject({ z: 512, w: 512, channels: 3, resolution: 1024, styleLayers: 18, stages: [4, 8, 16, 32, 64, 128, 256, 512, 1024] });
    expect(Object.keys(summary.networks)).toEqual(['mapping', 'synthesis', 'discriminator']);
    expect(summary.networks.mapping.params + summary.networks.synthesis.params).toBe(26_219_627);
  });

  it('check prints a table', () => {
    const result = sganc('check', 'examples/fashion-32.sgan');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('model fashion32: z 64, w 64, image 1 x 32 x 32');
    expect(result.stdout).toMatch(/generator\s+115,588/);
    expect(result.stdout).toContain('8 style layers');
  });

  it('check exits 1 with diagnostics', () => {
    const result = sganc('check', 'test/errors/E023-unknown-block.sgan');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("error[E023]: unknown block 'gblok'");
    expect(result.stderr).toContain("= hint: did you mean 'gblock'?");
  });

  it('reports a missing file', () => {
    const result = sganc('check', 'missing.sgan');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cannot read missing.sgan: file not found');
  });

  it('exits 2 on usage errors', () => {
    expect(sganc('check').status).toBe(2);
    expect(sganc('check', 'a.sgan', '--bogus').status).toBe(2);
    expect(sganc('frobnicate').status).toBe(2);
    expect(sganc('graph', 'examples/fashion-32.sgan', '--network', 'encoder').status).toBe(2);
  });

  it('graphs the generator with w feeding each AdaIN', () => {
    const result = sganc('graph', 'examples/fashion-32.sgan', '--network', 'generator', '--stage', '8');
    expect(result.status).toBe(0);
    // Rows 0-9 are z and the mapping network, so w is node 9; 4x4 and 8x8 have four AdaIN layers.
    expect(result.stdout).toMatch(/^9 +main +mapping +lrelu 0\.2/m);
    const styled = result.stdout.match(/^node \d+ takes nodes \d+ and 9$/gm) ?? [];
    expect(styled).toHaveLength(4);
  });

  it('registry names are unique', () => {
    const names = commands.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('lists commands and prints help', () => {
    const top = sganc('--help');
    expect(top.status).toBe(0);
    for (const name of ['check', 'fmt', 'graph']) expect(top.stdout).toContain(`  ${name} `);
    for (const name of ['check', 'fmt', 'graph']) {
      const help = sganc(name, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: sganc ${name} FILE`);
    }
  });

  it('fmt --write rewrites a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sganc-fmt-'));
    const path = join(dir, 'm.sgan');
    writeFileSync(path, 'model m{latent z 8;style w 8}');
    expect(sganc('fmt', path, '--write').status).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('model m {\n  latent z 8\n  style w 8\n}\n');
  });

  it('graph prints shapes at a stage', () => {
    const result = sganc('graph', 'examples/fashion-32.sgan', '--network', 'synthesis', '--stage', '16');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('synthesis.b16.torgb');
    expect(result.stdout).toContain('[N, 1, 16, 16]');
    expect(result.stdout).not.toContain('synthesis.b32');
  });

  it('graph prints dot', () => {
    const result = sganc('graph', 'examples/fashion-32.sgan', '--network', 'discriminator', '--stage', '8', '--format', 'dot');
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('digraph "discriminator of fashion32 at stage 8" {')).toBe(true);
    expect(result.stdout).toContain('[N, 1]');
    expect(result.stdout.trimEnd().endsWith('}')).toBe(true);
  });

  it('graph rejects a stage the model lacks', () => {
    const result = sganc('graph', 'examples/fashion-32.sgan', '--network', 'synthesis', '--stage', '64');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('stage 64 is not a stage of model fashion32');
  });
});
