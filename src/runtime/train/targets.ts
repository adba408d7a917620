// Resolution of `--target` names to execution targets, through the target registry in targets/index.ts.

import { getTarget, resolveTargetName, selectTargetName, TARGET_NAMES, type TargetOptions } from '../../../targets/index.ts';
import type { Target } from '../target.ts';

export { TargetError } from '../../../targets/index.ts';

/** Targets the project plans; a name here that the registry cannot run yet is "not available yet". */
export const KNOWN_TARGETS = TARGET_NAMES;

/** Returns the concrete target a name selects: 'auto' picks the fastest available one (cpu). */
export function concreteTargetName(name: string): string {
  return resolveTargetName(name);
}

/**
 * Loads the target a name selects, where 'auto' is wgsl on a hardware WebGPU adapter and cpu
 * otherwise; `options.threads` sets the cpu target's thread count.
 */
export async function loadTarget(name: string, options: TargetOptions = {}): Promise<Target> {
  return getTarget(await selectTargetName(name), options);
}
