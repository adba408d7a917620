// Resolution of `--target` names to execution targets. Only the reference executor exists so far;
// the other names are reserved for the planned backends and give a clear error.

import type { Target } from '../target.ts';

/** Targets the project plans; a name here that is not in AVAILABLE_TARGETS is "not available yet". */
export const KNOWN_TARGETS = ['auto', 'ref', 'cpu', 'wgsl', 'webgl'] as const;

const AVAILABLE_TARGETS = ['ref'] as const;

/** A target name that is unknown or not available; the CLI exits with status 2. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/** Returns the concrete target a name selects: 'auto' picks the fastest available one (now 'ref'). */
export function concreteTargetName(name: string): string {
  if (name === 'auto') return AVAILABLE_TARGETS[0];
  if ((AVAILABLE_TARGETS as readonly string[]).includes(name)) return name;
  if ((KNOWN_TARGETS as readonly string[]).includes(name)) {
    throw new TargetError(`target '${name}' is not available yet; use --target ref (or auto)`);
  }
  throw new TargetError(`unknown target '${name}'; expected one of ${KNOWN_TARGETS.join(', ')}`);
}

/** Loads the target a name selects. */
export async function loadTarget(name: string): Promise<Target> {
  const concrete = concreteTargetName(name);
  switch (concrete) {
    case 'ref': {
      const module = await import('../../../targets/ref/index.ts');
      return module.refTarget;
    }
    default:
      throw new TargetError(`internal error: no loader for target '${concrete}'`);
  }
}
