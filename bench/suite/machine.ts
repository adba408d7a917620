// The machine a run measured: CPU model, cores, memory, load average and the WebGPU adapter.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** The WebGPU adapter as Dawn reports it (npm package `webgpu`), or why there is none. */
  adapter: string;
  /** The X display, which decides whether gpu.js can use headless-gl, or 'unset'. */
  display: string;
  /** The 1-minute load average at the start and at the end of the run. */
  loadStart: number;
  loadEnd?: number;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match !== null) return match[1]!.trim();
  } catch {
    // Not Linux: fall through to Node's own report.
  }
  return cpus()[0]?.model ?? 'unknown';
}

// Runs in a child process because Dawn may block or keep the event loop alive while it looks for adapters.
const ADAPTER_PROBE = `
process.env.EGL_PLATFORM ??= 'surfaceless';
const { create } = await import('webgpu');
const describe = (a) => { const i = a.info ?? {}; return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(', ') || 'unnamed adapter'; };
let adapter = await create([]).requestAdapter();
let via = 'default backend';
if (!adapter) { adapter = await create(['backend=opengles']).requestAdapter({ featureLevel: 'compatibility' }); via = 'OpenGL ES backend, compatibility mode'; }
console.log(adapter ? describe(adapter) + ' (' + via + ')' : 'none: Dawn returned no adapter');
process.exit(0);
`;

/** Describes the WebGPU adapter; waits at most `timeoutMs`. */
export function probeAdapter(timeoutMs = 20000): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', ADAPTER_PROBE], { encoding: 'utf8', timeout: timeoutMs, cwd: process.cwd() });
  if (result.error !== undefined) return `unknown: the adapter probe failed (${result.error.message})`;
  const line = result.stdout.trim().split('\n').pop();
  if (result.status !== 0 || line === undefined || line === '') return `unknown: the adapter probe exited with status ${result.status}`;
  return line;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    adapter: probeAdapter(),
    display: process.env.DISPLAY ?? 'unset',
    loadStart: loadavg()[0]!,
  };
}

export function currentLoad(): number {
  return loadavg()[0]!;
}
