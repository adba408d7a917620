// Resolution of `--target` names to execution targets, through the target registry in targets/index.ts.

import { getTarget, selectTargetName, TARGET_NAMES, type TargetOptions } from '../../../targets/index.ts';
import type { Target } from '../target.ts';

export { TargetError } from '../../../targets/index.ts';

/** Every name that `--target` accepts. */
export const KNOWN_TARGETS = TARGET_NAMES;

/**
 * Returns the concrete target a name selects: 'auto' is wgsl on a hardware WebGPU adapter and cpu
 * otherwise. Throws TargetError for unknown names.
 */
export async function concreteTargetName(name: string): Promise<string> {
  return selectTargetName(name);
}

/**
 * Loads the target a name selects, where 'auto' is wgsl on a hardware WebGPU adapter and cpu
 * otherwise; `options.threads` sets the cpu target's thread count.
 */
export async function loadTarget(name: string, options: TargetOptions = {}): Promise<Target> {
  return getTarget(await selectTargetName(name), options);
}
