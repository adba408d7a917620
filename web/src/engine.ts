// Picks where the generator runs in the page: WebGPU when the browser has it and the WGSL target is
// part of this build, else WebGL2 through the WebGL target, else the fused reference executor in
// plain TypeScript, which always works. The page shows which one runs.
import type { Graph } from '../../src/ir/graph.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import { runFused } from '../../targets/ref/fused.ts';
import { loadWebglModule, loadWgslModule, type ModuleLoader } from './target-modules.ts';


export interface Engine {
  /** Short name shown in the page: 'WebGPU', 'WebGL2' or 'CPU (TypeScript)'. */
  label: string;
  /** Why this engine was chosen, shown next to the label. */
  reason: string;
  target: Target;
}

/** Runs fused kernels with the reference executor on the main thread. */
export const fusedTypeScriptTarget: Target = {
  name: 'ref-fused',
  compile(graph: Graph): CompiledProgram {
    const { program } = compileKernels(graph, webgpuLimits());
    return { graph, run: async (feeds: TensorMap): Promise<TensorMap> => runFused(program, feeds) };
  },
};

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

/**
 * Returns the best engine that starts. `prefer` forces the fallback ('cpu') for comparisons. A GPU
 * target that throws while starting is skipped, and its error ends up in the reason text.
 */
export async function pickEngine(prefer: 'auto' | 'cpu' = 'auto'): Promise<Engine> {
  const reasons: string[] = [];
  if (prefer === 'auto') {
    for (const attempt of [tryWebGpu, tryWebGl2]) {
      try {
        const result = await attempt();
        if (typeof result !== 'string') return { ...result, reason: [...reasons, result.reason].filter((r) => r !== '').join('; ') };
        reasons.push(result);
      } catch (error) {
        reasons.push(`${attempt === tryWebGpu ? 'WebGPU' : 'WebGL2'} failed to start: ${(error as Error).message}`);
      }
    }
  } else {
    reasons.push('requested with ?engine=cpu');
  }
  return { label: 'CPU (TypeScript)', reason: reasons.join('; '), target: fusedTypeScriptTarget };
}
