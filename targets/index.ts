// The registry of execution targets: one place that maps a `--target` name to a Target. 'auto' picks
// wgsl on a hardware WebGPU adapter and the cpu target otherwise.

import type { Target } from '../src/runtime/target.ts';
import { createCpuTarget } from './cpu/index.ts';
import { refTarget } from './ref/index.ts';
import { createWebglTarget } from './webgl/index.ts';
import { createWgslTarget, hardwareAdapterAvailable } from './wgsl/index.ts';

/** Every name that `--target` accepts. */
export const TARGET_NAMES = ['auto', 'ref', 'cpu', 'wgsl', 'webgl'] as const;

export type TargetName = (typeof TARGET_NAMES)[number];

/** The targets that run now; 'auto' selects the first, or wgsl where selectTargetName finds a hardware adapter. */
export const AVAILABLE_TARGETS = ['cpu', 'ref', 'webgl', 'wgsl'] as const;

export type AvailableTargetName = (typeof AVAILABLE_TARGETS)[number];

export interface TargetOptions {
  /** Threads of the cpu target, the caller included; default SGAN_CPU_THREADS, else one per core. Ignored by ref. */
  threads?: number;
}

/** An unknown target name; the CLI prints the message and exits with status 2. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/** Returns the target a name selects, with 'auto' as cpu; throws TargetError for unknown names. */
export function resolveTargetName(name: string): AvailableTargetName {
  if (name === 'auto') return AVAILABLE_TARGETS[0];
  const available = AVAILABLE_TARGETS.find((candidate) => candidate === name);
  if (available !== undefined) return available;
  throw new TargetError(`unknown target '${name}'; expected one of ${TARGET_NAMES.join(', ')}`);
}

/** Returns the target a name selects, with 'auto' as cpu (selectTargetName probes for a GPU first). Throws TargetError for unknown names. */
export function getTarget(name: TargetName | (string & {}), options: TargetOptions = {}): Target {
  const resolved = resolveTargetName(name);
  switch (resolved) {
    case 'cpu':
      return createCpuTarget({ threads: options.threads });
    case 'ref':
      return refTarget;
    case 'webgl':
      return createWebglTarget();
    case 'wgsl':
      return createWgslTarget();
  }
}

/**
 * Resolves a target name like resolveTargetName, except that 'auto' selects wgsl when a hardware
 * WebGPU adapter exists. Software adapters (llvmpipe, SwiftShader) run slower than the cpu
 * target, so with only those 'auto' stays on cpu.
 */
export async function selectTargetName(name: string): Promise<AvailableTargetName> {
  if (name === 'auto' && (await hardwareAdapterAvailable())) return 'wgsl';
  return resolveTargetName(name);
}
