// Picks where the generator runs in the page: WebGPU when the browser has it and the WGSL target is
// part of this build, else WebGL2 through the WebGL target, else the fused reference executor in
// plain TypeScript, which always works. The page shows which one runs.
import type { Target } from '../../src/runtime/target.ts';
import { fusedRefTarget } from '../../targets/ref/fused.ts';
import { loadWebglModule, loadWgslModule, type ModuleLoader } from './target-modules.ts';


export interface Engine {
  /** Short name shown in the page: 'WebGPU', 'WebGL2' or 'CPU (TypeScript)'. */
  label: string;
  /** Reason for the choice, shown in the badge's tooltip. */
  reason: string;
  target: Target;
}

/** Runs the fused kernels with the TypeScript reference executor, on the page's main thread. */
export const fusedTypeScriptTarget: Target = fusedRefTarget;

async function loadModule(load: ModuleLoader | undefined): Promise<Record<string, unknown> | undefined> {
  return load === undefined ? undefined : load();
}

async function tryWebGpu(): Promise<Engine | string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (gpu === undefined) return 'this browser has no WebGPU';
  const module = await loadModule(loadWgslModule);
  const create = module?.['createWgslTarget'];
  if (typeof create !== 'function') return 'the WGSL target is not part of this build';
  const adapter = await gpu.requestAdapter();
  if (adapter === null) return 'WebGPU returned no adapter';
  const device = await adapter.requestDevice({ requiredLimits: { maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup } });
  const target = (create as (options: { device: GPUDevice }) => Target)({ device });
  return { label: 'WebGPU', reason: `adapter ${adapter.info?.vendor || 'unknown'}`, target };
}

async function tryWebGl2(): Promise<Engine | string> {
  if (document.createElement('canvas').getContext('webgl2') === null) return 'this browser has no WebGL2';
  const module = await loadModule(loadWebglModule);
  const create = module?.['createWebglTarget'];
  if (typeof create !== 'function') return 'the WebGL target is not part of this build';
  const target = (create as (options: { mode: 'webgl2' }) => Target)({ mode: 'webgl2' });
  return { label: 'WebGL2', reason: '', target };
}

export type EngineChoice = 'auto' | 'webgpu' | 'webgl2' | 'cpu';

/**
 * Returns the first engine that starts, trying WebGPU, then WebGL2, then the TypeScript executor.
 * `choice` other than 'auto' tries only that engine before the fallback. A GPU target that throws
 * while starting is skipped, and its error ends up in the reason text.
 */
export async function pickEngine(choice: EngineChoice = 'auto'): Promise<Engine> {
  const attempts: [string, () => Promise<Engine | string>][] = [];
  if (choice === 'auto' || choice === 'webgpu') attempts.push(['WebGPU', tryWebGpu]);
  if (choice === 'auto' || choice === 'webgl2') attempts.push(['WebGL2', tryWebGl2]);
  const reasons: string[] = choice === 'cpu' ? ['requested with ?engine=cpu'] : [];
  for (const [label, attempt] of attempts) {
    try {
      const result = await attempt();
      if (typeof result !== 'string') return { ...result, reason: [...reasons, result.reason].filter((r) => r !== '').join('; ') };
      reasons.push(result);
    } catch (error) {
      reasons.push(`${label} failed to start: ${(error as Error).message}`);
    }
  }
  return { label: 'CPU (TypeScript)', reason: reasons.join('; '), target: fusedTypeScriptTarget };
}
