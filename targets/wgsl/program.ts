/// <reference types="@webgpu/types" />
// Running a fused program on a WebGPU device: the buffers of both arenas, one pipeline and bind
// group per kernel, all dispatches in one compute pass per run, outputs read back through one
// staging buffer.

import { formatShape, numel, type Graph, type Shape } from '../../src/ir/graph.ts';
import type { BufferInfo, FusedProgram } from '../../src/kernel/kernel.ts';
import { debugLevel, debugWrite, kernelSelected } from '../../src/opt/debug.ts';
import { compileKernels, type TargetLimits } from '../../src/opt/index.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { arenaOf, type KernelLayout } from './bindings.ts';
import { type KernelShader, programShaders } from './sources.ts';

// GPUBufferUsage, GPUMapMode and GPUShaderStage flags, spelled out because Node has no such globals
// until the webgpu package installs them.
const USAGE_MAP_READ = 0x1;
const USAGE_COPY_SRC = 0x4;
const USAGE_COPY_DST = 0x8;
const USAGE_UNIFORM = 0x40;
const USAGE_STORAGE = 0x80;
const MAP_MODE_READ = 0x1;
const STAGE_COMPUTE = 0x4;

/** The largest workgroup the kernels use, whatever the device allows: more gives llvmpipe and GPUs little. */
const MAX_WORKGROUP_SIZE = 256;

/** Returns the fusion and scheduling limits of a device. */
export function deviceTargetLimits(device: GPUDevice): TargetLimits {
  const limits = device.limits;
  return {
    maxStorageBuffers: limits.maxStorageBuffersPerShaderStage,
    maxWorkgroupBytes: limits.maxComputeWorkgroupStorageSize,
    maxInvocations: Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX, MAX_WORKGROUP_SIZE),
    maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
  };
}

/** A tensor too large for the device; the message names the tensor, its size and the limit. */
export class TensorTooLargeError extends Error {
  override name = 'TensorTooLargeError';
}

interface CompiledPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<CompiledPipeline>>>();

interface KernelRun {
  name: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** A program set up on one device: arenas, pipelines and bind groups. */
export class WgslProgram {
  private readonly feedOffsets: number[];
  private readonly feedArena: GPUBuffer;
  private readonly workArena: GPUBuffer;
  private kernels: KernelRun[] = [];
  private readonly staging: GPUBuffer;
  /** The slot offset buffers of packed kernels. */
  private readonly uniforms: GPUBuffer[] = [];
  private readonly outputOffsets = new Map<string, number>();

  private constructor(
    private readonly device: GPUDevice,
    private readonly name: string,
    private readonly program: FusedProgram,
  ) {
    const alignment = Math.max(256, device.limits.minStorageBufferOffsetAlignment);
    this.feedOffsets = program.buffers.map(() => -1);
    let feedBytes = 0;
    for (const buffer of program.buffers) {
      checkTensorSize(device, name, buffer);
      if (arenaOf(buffer) !== 'feeds') continue;
      this.feedOffsets[buffer.id] = feedBytes;
      // An empty tensor still binds 4 bytes (bindingBytes), so it gets a slot of its own, as the
      // work arena's planner gives every buffer at least one aligned slot.
      feedBytes += Math.ceil(Math.max(buffer.bytes, 1) / alignment) * alignment;
    }
    let stagingBytes = 0;
    for (const [output, buffer] of program.outputs) {
      this.outputOffsets.set(output, stagingBytes);
      stagingBytes += Math.ceil(program.buffers[buffer]!.bytes / 4) * 4;
    }
    // The caller gets no program when construction throws, so buffers created before the throw are freed here.
    const created: GPUBuffer[] = [];
    try {
      this.feedArena = this.createArena('feed', Math.max(feedBytes, 256), USAGE_STORAGE | USAGE_COPY_DST | USAGE_COPY_SRC);
      created.push(this.feedArena);
      this.workArena = this.createArena('work', Math.max(program.peakBytes, 256), USAGE_STORAGE | USAGE_COPY_SRC);
      created.push(this.workArena);
      this.staging = device.createBuffer({ label: `${name} outputs`, size: Math.max(stagingBytes, 4), usage: USAGE_MAP_READ | USAGE_COPY_DST });
    } catch (error) {
      for (const buffer of created) buffer.destroy();
      throw error;
    }
    for (const buffer of program.buffers) {
      if (buffer.source.kind === 'literal') device.queue.writeBuffer(this.feedArena, this.feedOffsets[buffer.id]!, buffer.source.data);
    }
  }

  /** Fuses `graph` for the device's limits (or `overrides`), compiles every kernel and checks that the device accepts them. */
  static async create(device: GPUDevice, graph: Graph, name: string, overrides: Partial<TargetLimits> = {}): Promise<WgslProgram> {
    const deviceLimits = deviceTargetLimits(device);
    const { program } = compileKernels(graph, { ...deviceLimits, ...overrides }, { label: name });
    const shaders = programShaders(program, deviceLimits);
    if (debugLevel() >= 4) {
      for (const shader of shaders) if (kernelSelected(shader.name)) debugWrite(`[wgsl] ${name}: ${shader.name}\n${shader.source}`);
    }
    device.pushErrorScope('out-of-memory');
    let result: WgslProgram | undefined;
    let sizeError: unknown;
    try {
      result = new WgslProgram(device, name, program);
    } catch (error) {
      sizeError = error;
    }
    // The scope is popped before any error is raised, so the device's error scopes stay balanced.
    const memoryError = await device.popErrorScope();
    if (result === undefined) throw sizeError;
    const prepared = result;
    // A program that fails here is never returned to a caller, so its buffers are freed here.
    try {
      if (memoryError !== null) throw new Error(`program ${name}: WebGPU could not allocate its buffers: ${memoryError.message}`);
      // Every kernel settles before the buffers are freed, so none is still binding them.
      const settled = await Promise.allSettled(shaders.map((shader) => prepared.prepareKernel(shader)));
      const failed = settled.find((outcome) => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      prepared.kernels = settled.map((outcome) => (outcome as PromiseFulfilledResult<KernelRun>).value);
    } catch (error) {
      prepared.destroy();
      throw error;
    }
    return prepared;
  }

  private createArena(kind: string, bytes: number, usage: number): GPUBuffer {
    const limit = this.device.limits.maxBufferSize;
    if (bytes > limit) {
      throw new TensorTooLargeError(
        `program ${this.name}: its ${kind} arena needs ${bytes} bytes, over the device's maxBufferSize of ${limit}; use a smaller batch`,
      );
    }
    return this.device.createBuffer({ label: `${this.name} ${kind} arena`, size: bytes, usage });
  }

  private async prepareKernel(shader: KernelShader): Promise<KernelRun> {
    const device = this.device;
    const compiled = await this.compiledPipeline(shader);
    // Entries first: they may throw, and an error scope must not stay pushed.
    const entries = this.bindGroupEntries(shader);
    device.pushErrorScope('validation');
    const bindGroup = device.createBindGroup({ label: shader.name, layout: compiled.layout, entries });
    const validation = await device.popErrorScope();
    if (validation !== null) {
      throw new Error(`WebGPU rejected the bindings of kernel ${shader.name} of program ${this.name}: ${validation.message}`);
    }
    return { name: shader.name, pipeline: compiled.pipeline, bindGroup, workgroups: shader.workgroups };
  }

  /**
   * Returns the pipeline of a shader source, compiled once per device because programs of one
   * model share many kernels. Pipelines compile asynchronously, so a program's kernels compile in
   * parallel where the implementation allows.
   */
  private compiledPipeline(shader: KernelShader): Promise<CompiledPipeline> {
    const device = this.device;
    let cache = pipelineCache.get(device);
    if (cache === undefined) {
      cache = new Map();
      pipelineCache.set(device, cache);
    }
    const cached = cache.get(shader.source);
    if (cached !== undefined) return cached;
    const compiled = this.compilePipeline(shader);
    cache.set(shader.source, compiled);
    // A failed compilation is not cached, so a later program reports its own error.
    compiled.catch(() => cache.delete(shader.source));
    return compiled;
  }

  private async compilePipeline(shader: KernelShader): Promise<CompiledPipeline> {
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: shader.name, code: shader.source });
    const layout = device.createBindGroupLayout({ label: shader.name, entries: layoutEntries(shader.layout) });
    const pipelineLayout = device.createPipelineLayout({ label: shader.name, bindGroupLayouts: [layout] });
    const validation = await device.popErrorScope();
    if (validation !== null) {
      throw new Error(`WebGPU rejected kernel ${shader.name} of program ${this.name}: ${await compilerMessages(module, validation)}`);
    }
    try {
      const pipeline = await device.createComputePipelineAsync({ label: shader.name, layout: pipelineLayout, compute: { module, entryPoint: 'main' } });
      return { pipeline, layout };
    } catch (error) {
      throw new Error(`WebGPU rejected kernel ${shader.name} of program ${this.name}: ${await compilerMessages(module, error)}`);
    }
  }

  private bindGroupEntries(shader: KernelShader): GPUBindGroupEntry[] {
    const layout = shader.layout;
    const arenaBuffer = (arena: 'feeds' | 'work'): GPUBuffer => (arena === 'feeds' ? this.feedArena : this.workArena);
    const offsetOf = (buffer: BufferInfo): number => (arenaOf(buffer) === 'feeds' ? this.feedOffsets[buffer.id]! : buffer.offset);
    if (layout.kind === 'separate') {
      return layout.slots.map((slot, binding) => {
        const info = this.program.buffers[slot.buffer]!;
        return { binding, resource: { buffer: arenaBuffer(slot.arena), offset: offsetOf(info), size: bindingBytes(info) } };
      });
    }
    const entries: GPUBindGroupEntry[] = layout.arenas.map((arena, binding) => {
      const buffer = arenaBuffer(arena);
      const limit = this.device.limits.maxStorageBufferBindingSize;
      if (buffer.size > limit) {
        throw new TensorTooLargeError(
          `kernel ${shader.name} of program ${this.name} binds the whole ${arena} arena (${buffer.size} bytes) because it ` +
            `reads more tensors than the device's ${this.device.limits.maxStorageBuffersPerShaderStage} storage buffers, ` +
            `but maxStorageBufferBindingSize is ${limit}`,
        );
      }
      return { binding, resource: { buffer } };
    });
    const offsets = new Uint32Array(Math.ceil(layout.slots.length / 4) * 4);
    layout.slots.forEach((slot, k) => {
      offsets[k] = offsetOf(this.program.buffers[slot.buffer]!) / 4;
    });
    const uniform = this.device.createBuffer({ label: `${shader.name} offsets`, size: offsets.byteLength, usage: USAGE_UNIFORM | USAGE_COPY_DST });
    this.uniforms.push(uniform);
    this.device.queue.writeBuffer(uniform, 0, offsets);
    entries.push({ binding: layout.arenas.length, resource: { buffer: uniform } });
    return entries;
  }

  /** Uploads the feeds, runs every kernel in order and reads back the outputs. */
  async run(feeds: TensorMap): Promise<TensorMap> {
    const program = this.program;
    for (const feed of program.feeds) feedData(feeds, feed.name, feed.kind === 'param' ? 'parameter' : 'input', feed.shape);
    const device = this.device;
    for (const buffer of program.buffers) {
      const source = buffer.source;
      if (source.kind !== 'input' && source.kind !== 'param') continue;
      const data = feedData(feeds, source.name, source.kind === 'param' ? 'parameter' : 'input', buffer.shape);
      device.queue.writeBuffer(this.feedArena, this.feedOffsets[buffer.id]!, data.buffer, data.byteOffset, data.byteLength);
    }

    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    const encoder = device.createCommandEncoder({ label: this.name });
    const pass = encoder.beginComputePass({ label: this.name });
    for (const kernel of this.kernels) {
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, kernel.bindGroup);
      pass.dispatchWorkgroups(...kernel.workgroups);
    }
    pass.end();
    for (const [output, buffer] of program.outputs) {
      const info = program.buffers[buffer]!;
      if (info.bytes === 0) continue;
      const arena = arenaOf(info) === 'feeds' ? this.feedArena : this.workArena;
      const offset = arenaOf(info) === 'feeds' ? this.feedOffsets[buffer]! : info.offset;
      encoder.copyBufferToBuffer(arena, offset, this.staging, this.outputOffsets.get(output)!, Math.ceil(info.bytes / 4) * 4);
    }
    device.queue.submit([encoder.finish()]);
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    const failure = validation ?? internal;
    if (failure !== null) throw new Error(`WebGPU failed to run program ${this.name}: ${failure.message}`);

    await this.staging.mapAsync(MAP_MODE_READ);
    const bytes = this.staging.getMappedRange();
    const result: TensorMap = {};
    for (const [output, buffer] of program.outputs) {
      const shape = program.buffers[buffer]!.shape;
      const start = this.outputOffsets.get(output)!;
      result[output] = { shape: [...shape], data: new Float32Array(bytes.slice(start, start + 4 * numel(shape))) };
    }
    this.staging.unmap();
    return result;
  }

  /** Frees the device buffers; the program cannot run afterwards. */
  destroy(): void {
    this.feedArena.destroy();
    this.workArena.destroy();
    this.staging.destroy();
    for (const uniform of this.uniforms) uniform.destroy();
  }
}

/** Bytes that a binding of `buffer` covers: WebGPU rejects zero-size bindings, so an empty tensor binds 4. */
function bindingBytes(buffer: BufferInfo): number {
  return Math.max(buffer.bytes, 4);
}

function layoutEntries(layout: KernelLayout): GPUBindGroupLayoutEntry[] {
  const storage = (binding: number, readOnly: boolean): GPUBindGroupLayoutEntry => ({
    binding,
    visibility: STAGE_COMPUTE,
    buffer: { type: readOnly ? 'read-only-storage' : 'storage' },
  });
  if (layout.kind === 'separate') return layout.slots.map((slot, binding) => storage(binding, slot.arena === 'feeds'));
  const entries = layout.arenas.map((arena, binding) => storage(binding, arena === 'feeds'));
  entries.push({ binding: layout.arenas.length, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } });
  return entries;
}

function checkTensorSize(device: GPUDevice, program: string, buffer: BufferInfo): void {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (buffer.bytes <= limit) return;
  const source = buffer.source;
  const tensor = source.kind === 'input' || source.kind === 'param' ? `${source.kind} '${source.name}'` : `buffer b${buffer.id} (${source.kind})`;
  throw new TensorTooLargeError(
    `program ${program}: ${tensor} of shape ${formatShape(buffer.shape)} needs ${buffer.bytes} bytes, over the device's ` +
      `storage binding limit of ${limit} bytes; use a smaller batch or --target cpu`,
  );
}

function feedData(feeds: TensorMap, name: string, role: string, shape: Shape): Float32Array {
  const feed = feeds[name];
  if (feed === undefined) throw new Error(`missing feed for ${role} '${name}': expected a tensor of shape ${formatShape(shape)}`);
  if (feed.shape.length !== shape.length || feed.shape.some((d, i) => d !== shape[i]) || feed.data.length !== numel(shape)) {
    throw new Error(`invalid feed for ${role} '${name}': expected shape ${formatShape(shape)}, got ${formatShape(feed.shape)}`);
  }
  return feed.data;
}

/** Collects the shader compiler's error lines, which are more specific than a pipeline error. */
async function compilerMessages(module: GPUShaderModule, error: unknown): Promise<string> {
  const info = await module.getCompilationInfo();
  const lines = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`);
  return lines.length > 0 ? lines.join('; ') : (error as Error).message;
}
