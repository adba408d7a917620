// A graph compiled for the cpu target through the optimizer's fused kernels (compileKernels). Each
// elementwise, reduce and row kernel becomes one generated WebAssembly function (fused-source.ts).
// A contraction kernel computes its operand prologues into scratch with generated functions where
// they are more than a load, runs the gemm or convolution kernels of contraction.ts, and applies its
// elementwise epilogue in one more generated pass. A kernel the generator cannot compile runs with
// the fused reference executor on views of the same memory, and is counted in the debug output.
//
// Memory layout, from byte 64 of the shared memory: the optimizer's buffer arena (its
// planned offsets), then inputs, parameters and literals, then scratch for contraction kernels.

import { formatShape, type Graph, numel, type Shape } from '../../src/ir/graph.ts';
import type { FusedProgram, Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import { debugLevel, debugWrite, kernelSelected } from '../../src/opt/debug.ts';
import { compileKernels, type TargetLimits } from '../../src/opt/index.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runKernel } from '../ref/fused.ts';
import { generatedModule } from './assemble.ts';
import {
  conv2d,
  conv2dBackInput,
  conv2dBackInputScratch,
  conv2dBackWeight,
  conv2dBackWeightScratch,
  conv2dScratch,
  convGeometry,
  matmul,
  matmulScratch,
} from './contraction.ts';
import { type MapFunction, mapFunctionText, mapModuleText, mapWork, UnsupportedExpression } from './fused-source.ts';
import type { Profile } from './program.ts';
import type { CpuRuntime, LoadedModule } from './runtime.ts';

const ALIGN = 64;
const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** Maps with less work than this (elements plus reduced elements) run on the calling thread, because waking workers costs more. */
const MIN_PARALLEL_WORK = 1 << 15;

/**
 * Returns the limits for fusing on the cpu target. A generated function takes any number of address
 * parameters and a row kernel keeps its statistics in locals, so only the buffer count limits
 * fusion. NOTE: the count of 32 is a chosen bound on kernel size, not a measured optimum.
 */
export function cpuLimits(): TargetLimits {
  return { maxStorageBuffers: 32, maxWorkgroupBytes: 1 << 20, maxInvocations: 1024, maxWorkgroupsPerDimension: 2 ** 31 - 1 };
}

/** Hands out aligned byte ranges of a kernel's scratch, in order. */
class ScratchRegion {
  private cursor: number;

  constructor(private readonly start: number) {
    this.cursor = start;
  }

  reserve(bytes: number): number {
    const at = this.cursor;
    this.cursor += alignUp(Math.max(bytes, 16));
    return at;
  }

  get bytes(): number {
    return this.cursor - this.start;
  }
}

/** A call of a generated function: byte addresses of its inputs then outputs. */
interface MapStep {
  kind: 'map';
  /** The profile key: the kernel's name without its number, or the part of a contraction kernel. */
  label: string;
  function: number;
  addresses: number[];
  parallel: boolean;
}

interface ContractionStep {
  kind: 'contraction';
  label: string;
  expr: Extract<KernelExpr, { kind: 'matmul' | 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight' }>;
  operandShapes: [Shape, Shape];
  operands: [number, number];
  output: number;
  scratch: number;
}

interface ReferenceStep {
  kind: 'reference';
  label: string;
  kernel: Kernel;
}

type Step = MapStep | ContractionStep | ReferenceStep;


export interface FusedCpuOptions {
  /** Selects kernels (by name, such as `k12_conv2d_lrelu`) to run with the reference executor, to isolate a wrong generated kernel. */
  referenceKernels?: (name: string) => boolean;
}

const CONTRACTION_KINDS = new Set(['matmul', 'conv2d', 'conv2dBackInput', 'conv2dBackWeight']);

/** Follows reshapes, which do not change the flat data, to the expression that produces the values. */
function throughReshapes(exprs: readonly KernelExpr[], id: number): number {
  let current = id;
  for (let expr = exprs[current]!; expr.kind === 'reshape'; expr = exprs[current]!) current = expr.x;
  return current;
}

export class FusedCpuProgram {
  readonly program: FusedProgram;
  /** Byte address of every buffer of the program. */
  private readonly address: number[];
  private readonly functions: MapFunction[] = [];
  private readonly texts: string[] = [];
  private readonly plans: Step[][] = [];
  private readonly totalBytes: number;
  private module: Promise<LoadedModule> | undefined;
  /** Kernels that run with the fused reference executor because the generator does not compile them. */
  readonly fallbacks: string[] = [];

  constructor(
    readonly graph: Graph,
    private readonly rt: CpuRuntime,
    name: string,
    private readonly options: FusedCpuOptions = {},
  ) {
    this.program = compileKernels(graph, cpuLimits(), { label: name }).program;
    const program = this.program;

    this.address = new Array<number>(program.buffers.length).fill(-1);
    const arenaStart = ALIGN;
    let top = alignUp(arenaStart + program.peakBytes);
    for (const buffer of program.buffers) {
      if (buffer.source.kind === 'kernel') {
        this.address[buffer.id] = arenaStart + buffer.offset;
      } else {
        this.address[buffer.id] = top;
        top += alignUp(Math.max(buffer.bytes, 16));
      }
    }
    const scratch = top;
    let scratchBytes = 0;
    for (const kernel of program.kernels) {
      const { plan, bytes } = this.planKernel(kernel, scratch);
      this.plans.push(plan);
      scratchBytes = Math.max(scratchBytes, bytes);
    }
    this.totalBytes = scratch + alignUp(scratchBytes);

    if (debugLevel() >= 1) {
      debugWrite(
        `[cpu] ${name}: ${program.kernels.length} fused kernels, ${this.functions.length} generated functions, ` +
          `${this.fallbacks.length} run by the reference executor${this.fallbacks.length > 0 ? ` (${this.fallbacks.join(', ')})` : ''}`,
      );
    }
  }

  /** Loads the generated module on every thread once. */
  private load(): Promise<LoadedModule> {
    this.module ??= (async () => {
      // A program without generated functions (only contractions, or no kernels) needs no module.
      if (this.functions.length === 0) return { id: -1, names: [], functions: [] };
      const names = this.functions.map((fn) => fn.name);
      const module = await generatedModule(mapModuleText(this.texts));
      return this.rt.loadModule(module, names);
    })();
    return this.module;
  }

  /** Adds a generated function and returns its index, or throws UnsupportedExpression. */
  private addFunction(fn: Omit<MapFunction, 'name'>): number {
    const index = this.functions.length;
    const named: MapFunction = { ...fn, name: `f${index}` };
    const text = mapFunctionText(named);
    this.functions.push(named);
    this.texts.push(text);
    return index;
  }

  private mapStep(label: string, fn: Omit<MapFunction, 'name'>, addresses: number[]): MapStep {
    const index = this.addFunction(fn);
    return { kind: 'map', label, function: index, addresses, parallel: mapWork(this.functions[index]!) >= MIN_PARALLEL_WORK };
  }

  /** Plans one kernel's steps and returns them with the scratch bytes they use from `scratch` on. */
  private planKernel(kernel: Kernel, scratch: number): { plan: Step[]; bytes: number } {
    const outputs = kernel.outputs.map((output) => this.address[output.buffer]!);
    const functionCount = this.functions.length;
    const textCount = this.texts.length;
    if (this.options.referenceKernels?.(kernel.name) === true) {
      this.fallbacks.push(`${kernel.name}: requested`);
      return { plan: [{ kind: 'reference', label: 'reference executor', kernel }], bytes: 0 };
    }
    try {
      const region = new ScratchRegion(scratch);
      const steps: Step[] = [];
      const { exprs, inputs } = this.hoistRandn(kernel, steps, region);
      if (kernel.kind === 'contraction') {
        this.planContraction(kernel, exprs, inputs, outputs, steps, region);
      } else {
        const fn = { shape: kernel.shape, exprs, inputs: inputs.length, outputs: kernel.outputs.map((o) => o.expr) };
        steps.push(this.mapStep(kernel.name.replace(/^k\d+_/, ''), fn, [...inputs, ...outputs]));
      }
      if (debugLevel() >= 4 && kernelSelected(kernel.name)) {
        debugWrite(`[cpu] ${kernel.name}: ${steps.map((step) => step.label).join(', ')}\n${this.texts.slice(textCount).join('\n')}`);
      }
      return { plan: steps, bytes: region.bytes };
    } catch (error) {
      if (!(error instanceof UnsupportedExpression)) throw error;
      // Drop the functions of a half-planned kernel, so the module contains only called ones.
      this.functions.length = functionCount;
      this.texts.length = textCount;
      this.fallbacks.push(`${kernel.name}: ${error.message}`);
      return { plan: [{ kind: 'reference', label: 'reference executor', kernel }], bytes: 0 };
    }
  }

  /**
   * Computes the randn expressions into scratch first, in their own shape, and returns the kernel's
   * expressions with loads in their place. Noise is broadcast over channels, so computing it
   * inside the kernel would repeat the generator once per channel.
   */
  private hoistRandn(kernel: Kernel, steps: Step[], region: ScratchRegion): { exprs: KernelExpr[]; inputs: number[] } {
    const original = kernel.inputs.map((buffer) => this.address[buffer]!);
    const exprs = [...kernel.exprs];
    const inputs = [...original];
    kernel.exprs.forEach((expr, id) => {
      // A randn of the kernel's own size is computed once per element anyway.
      if (expr.kind !== 'randn' || (kernel.kind !== 'contraction' && numel(expr.shape) === numel(kernel.shape))) return;
      const at = region.reserve(4 * numel(expr.shape));
      steps.push(this.mapStep('randn', { shape: expr.shape, exprs: kernel.exprs, inputs: original.length, outputs: [id] }, [...original, at]));
      exprs[id] = { kind: 'load', shape: expr.shape, input: inputs.length };
      inputs.push(at);
    });
    return { exprs, inputs };
  }

  private planContraction(kernel: Kernel, exprs: KernelExpr[], inputs: number[], outputs: number[], steps: Step[], region: ScratchRegion): void {
    const core = exprs.findIndex((expr) => CONTRACTION_KINDS.has(expr.kind));
    const expr = exprs[core] as ContractionStep['expr'];
    const operandIds: [number, number] =
      expr.kind === 'matmul' ? [expr.a, expr.b] : expr.kind === 'conv2d' ? [expr.x, expr.w] : expr.kind === 'conv2dBackInput' ? [expr.dy, expr.w] : [expr.x, expr.dy];
    if (exprs.some((e, id) => id !== core && CONTRACTION_KINDS.has(e.kind))) throw new UnsupportedExpression('two contractions in one kernel');

    // Operands that are plain loads are read in place, and other prologues are computed into scratch.
    const operandAddresses = operandIds.map((id) => {
      const source = exprs[throughReshapes(exprs, id)]!;
      if (source.kind === 'load') return inputs[source.input]!;
      const at = region.reserve(4 * numel(exprs[id]!.shape));
      steps.push(this.mapStep(`${expr.kind} prologue`, { shape: exprs[id]!.shape, exprs, inputs: inputs.length, outputs: [id] }, [...inputs, at]));
      return at;
    }) as [number, number];

    // Without an epilogue the contraction writes the kernel's output directly.
    const direct = kernel.outputs.length === 1 && throughReshapes(exprs, kernel.outputs[0]!.expr) === core;
    const result = direct ? outputs[0]! : region.reserve(4 * numel(expr.shape));
    const operandShapes: [Shape, Shape] = [exprs[operandIds[0]]!.shape, exprs[operandIds[1]]!.shape];
    const scratch = region.reserve(contractionScratchBytes(expr, operandShapes));
    steps.push({ kind: 'contraction', label: expr.kind, expr, operandShapes, operands: operandAddresses, output: result, scratch });

    if (!direct) {
      // The epilogue reads the contraction's result as one more input.
      const epilogue = exprs.map((e, id): KernelExpr => (id === core ? { kind: 'load', shape: expr.shape, input: inputs.length } : e));
      const fn = { shape: kernel.shape, exprs: epilogue, inputs: inputs.length + 1, outputs: kernel.outputs.map((o) => o.expr) };
      steps.push(this.mapStep(`${expr.kind} epilogue`, fn, [...inputs, result, ...outputs]));
    }
  }

  /** Runs the program and resolves with every output as a fresh (unshared) array. */
  async run(feeds: TensorMap, profile?: Profile): Promise<TensorMap> {
    await this.rt.start();
    const module = await this.load();
    const { rt, program } = this;
    rt.ensureMemory(this.totalBytes);

    for (const feed of program.feeds) checkFeed(feeds, feed.name, feed.kind === 'param' ? 'parameter' : 'input', feed.shape);
    for (const buffer of program.buffers) {
      const source = buffer.source;
      if (source.kind === 'kernel') continue;
      const data = source.kind === 'literal' ? source.data : feeds[source.name]!.data;
      rt.view(this.address[buffer.id]!, data.length).set(data);
    }

    for (const plan of this.plans) {
      for (const step of plan) {
        const start = profile === undefined ? 0 : performance.now();
        this.runStep(step, module);
        if (profile === undefined) continue;
        const entry = profile.get(step.label) ?? { ms: 0, count: 0 };
        entry.ms += performance.now() - start;
        entry.count++;
        profile.set(step.label, entry);
      }
    }

    const result: TensorMap = {};
    for (const [name, buffer] of program.outputs) {
      const shape = program.buffers[buffer]!.shape;
      result[name] = { shape: [...shape], data: rt.view(this.address[buffer]!, numel(shape)).slice() };
    }
    return result;
  }

  private runStep(step: Step, module: LoadedModule): void {
    const rt = this.rt;
    switch (step.kind) {
      case 'map':
        rt.callLoaded(module, step.function, step.addresses, step.parallel);
        return;
      case 'contraction':
        runContraction(rt, step);
        return;
      case 'reference': {
        const views = this.program.buffers.map((buffer) => rt.view(this.address[buffer.id]!, numel(buffer.shape)));
        runKernel(step.kernel, views);
        return;
      }
    }
  }
}

function contractionScratchBytes(expr: ContractionStep['expr'], [first, second]: [Shape, Shape]): number {
  switch (expr.kind) {
    case 'matmul':
      return matmulScratch(first, second);
    case 'conv2d':
      return conv2dScratch(convGeometry(first, second, expr.shape, expr.attrs));
    case 'conv2dBackInput':
      return conv2dBackInputScratch(convGeometry(expr.shape, second, first, expr.attrs));
    case 'conv2dBackWeight':
      return conv2dBackWeightScratch(convGeometry(first, expr.shape, second, expr.attrs));
  }
}

function runContraction(rt: CpuRuntime, step: ContractionStep): void {
  const { expr, operandShapes, operands, output, scratch } = step;
  const [first, second] = operandShapes;
  switch (expr.kind) {
    case 'matmul':
      matmul(rt, first, second, operands[0], operands[1], output, scratch);
      return;
    case 'conv2d':
      conv2d(rt, convGeometry(first, second, expr.shape, expr.attrs), operands[0], operands[1], output, scratch);
      return;
    case 'conv2dBackInput':
      conv2dBackInput(rt, convGeometry(expr.shape, second, first, expr.attrs), operands[0], operands[1], output, scratch);
      return;
    case 'conv2dBackWeight':
      conv2dBackWeight(rt, convGeometry(first, expr.shape, second, expr.attrs), operands[0], operands[1], output, scratch);
      return;
  }
}

function checkFeed(feeds: TensorMap, name: string, role: string, shape: Shape): void {
  const feed = feeds[name];
  if (feed === undefined) throw new Error(`missing feed for ${role} '${name}': expected a tensor of shape ${formatShape(shape)}`);
  if (feed.shape.length !== shape.length || feed.shape.some((d, i) => d !== shape[i]) || feed.data.length !== numel(shape)) {
    throw new Error(
      `invalid feed for ${role} '${name}': expected shape ${formatShape(shape)} (${numel(shape)} values), ` +
        `got ${formatShape(feed.shape)} with ${feed.data.length} values`,
    );
  }
}
