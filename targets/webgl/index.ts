// The webgl target: fused kernels as gpu.js kernels, run through headless-gl in Node, WebGL2 in
// browsers, or gpu.js's cpu mode where neither is available.

import type { Graph } from '../../src/ir/graph.ts';
import { compileKernels, type TargetLimits, webgpuLimits } from '../../src/opt/index.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import { planWebgl, type WebglPlan } from './codegen.ts';
import { DEFAULT_MAX_TEXTURE_SIZE } from './layout.ts';
import { type WebglBackend, type WebglMode, WebglProgram } from './program.ts';

export { WebglLayoutError, DEFAULT_MAX_TEXTURE_SIZE } from './layout.ts';
export type { WebglMode } from './program.ts';

export interface WebglTargetOptions {
  /**
   * The gpu.js mode. Default: webgl2 in browsers; in Node headlessgl where headless-gl can create
   * a context, else cpu after a notice on stderr.
   */
  mode?: WebglMode;
  /** The largest texture side to plan for, in texels (default 4096); the device's MAX_TEXTURE_SIZE is checked on the first run. */
  maxTextureSize?: number;
}

export interface WebglCompiledProgram extends CompiledProgram {
  readonly plan: WebglPlan;
}

export interface WebglTarget extends Target {
  compile(graph: Graph, name: string): WebglCompiledProgram;
  /** Resolves to the gpu.js mode the target runs in, creating its gpu.js instance if needed. */
  mode(): Promise<WebglMode>;
}

/**
 * Returns the limits the webgl target fuses for. A gpu.js kernel binds one texture unit per input,
 * and WebGL2 guarantees 16 units; 12 inputs and outputs per fused kernel leave room for the row
 * reductions and randn values that get their own textures.
 */
export function webglLimits(): TargetLimits {
  return { ...webgpuLimits(), maxStorageBuffers: 12 };
}

/** Creates a webgl target. Programs compiled by one target share one gpu.js instance and GL context. */
export function createWebglTarget(options: WebglTargetOptions = {}): WebglTarget {
  const maxTextureSize = options.maxTextureSize ?? DEFAULT_MAX_TEXTURE_SIZE;
  if (!Number.isInteger(maxTextureSize) || maxTextureSize < 1) {
    throw new Error(`invalid maxTextureSize ${maxTextureSize}: expected a positive integer`);
  }
  let backend: Promise<WebglBackend> | undefined;
  const getBackend = (): Promise<WebglBackend> => {
    backend ??= createBackend(options.mode);
    return backend;
  };
  return {
    name: 'webgl',
    compile(graph: Graph, name: string): WebglCompiledProgram {
      const plan = planProgram(graph, name, maxTextureSize);
      const program = new WebglProgram(plan, getBackend);
      return { graph, plan, run: (feeds) => program.run(feeds) };
    },
    mode: async () => (await getBackend()).mode,
  };
}

/** Returns the gpu.js source of every kernel the webgl target runs for `graph`, in execution order. */
export function webglKernelSources(graph: Graph, maxTextureSize = DEFAULT_MAX_TEXTURE_SIZE): { name: string; source: string }[] {
  const plan = planProgram(graph, 'sources', maxTextureSize);
  return plan.steps.flatMap((step) => (step.kind === 'kernel' ? [{ name: step.kernel.name, source: step.kernel.source }] : []));
}

export function planProgram(graph: Graph, name: string, maxTextureSize = DEFAULT_MAX_TEXTURE_SIZE): WebglPlan {
  const { program } = compileKernels(graph, webglLimits(), { label: name });
  return planWebgl(program, maxTextureSize);
}

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function createBackend(requested: WebglMode | undefined): Promise<WebglBackend> {
  let mode: WebglMode;
  if (!isNode()) {
    mode = requested ?? 'webgl2';
  } else if (requested === 'webgl2') {
    throw new Error("the webgl2 mode needs a browser; use mode 'headlessgl' or 'cpu' in Node");
  } else {
    // A computed specifier keeps bundlers from pulling node: modules into browser builds.
    const nodeModule = './node.ts';
    const node = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./node.ts');
    const problem = requested === 'cpu' ? undefined : node.headlessGlProblem();
    if (requested === 'headlessgl' && problem !== undefined) throw new Error(`the headlessgl mode cannot run: ${problem}`);
    mode = requested ?? (problem === undefined ? 'headlessgl' : 'cpu');
    if (requested === undefined && problem !== undefined) {
      node.writeNoticeOnce(`sganc: webgl target: ${problem}; running the kernels in gpu.js cpu mode instead`);
    }
  }
  const gpujs = await import('gpu.js');
  const gpu = new gpujs.GPU({ mode });
  // gpu.js reads the limit from a test context of the mode's kernel class; cpu mode has none.
  const features = (gpu.Kernel as unknown as { features?: { maxTextureSize?: number } }).features;
  return {
    gpu,
    mode,
    input: (value, size) => new gpujs.Input(value as unknown as number[], size as [number]),
    maxTextureSize: mode === 'cpu' ? undefined : features?.maxTextureSize,
  };
}
