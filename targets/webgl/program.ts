// Running a webgl plan with gpu.js. In the GL modes every kernel returns a pipelined texture that
// later kernels read directly, so tensors stay on the GPU until the outputs are read back. In cpu
// mode gpu.js runs the same kernel source as JavaScript and results are plain arrays.

import type { GPU, IKernelRunShortcut, Input, Texture } from 'gpu.js';
import { assertNever, formatShape, numel, type Shape } from '../../src/ir/graph.ts';
import { fillRandn } from '../../src/ir/rng.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import type { GpuKernel, Storage, WebglPlan } from './codegen.ts';
import { WebglLayoutError } from './layout.ts';

/** gpu.js modes the target runs in: headless-gl in Node, WebGL2 in browsers, or gpu.js's JavaScript cpu mode. */
export type WebglMode = 'headlessgl' | 'webgl2' | 'cpu';

export interface WebglBackend {
  gpu: GPU;
  mode: WebglMode;
  /** gpu.js's `input`, which wraps a host array as a kernel argument. */
  input: (value: Float32Array, size: number[]) => Input;
  /** The device's MAX_TEXTURE_SIZE in the GL modes, undefined in cpu mode. */
  maxTextureSize: number | undefined;
}

/** A tensor during a run: on the host, or a texture that a GL-mode kernel wrote. */
type Value = { kind: 'host'; data: Float32Array } | { kind: 'texture'; texture: Texture; size: number };

// NOTE: each gpu.js kernel keeps its output texture for reuse on the next run, and nothing deletes
// the kernels, so GPU memory grows with every program compiled by a long-lived target.
export class WebglProgram {
  /** gpu.js kernels by step index, built on first use. */
  private readonly kernels = new Map<number, IKernelRunShortcut>();
  private deviceChecked = false;

  constructor(
    readonly plan: WebglPlan,
    private readonly backend: () => Promise<WebglBackend>,
  ) {}

  async run(feeds: TensorMap): Promise<TensorMap> {
    const { program } = this.plan;
    for (const feed of program.feeds) feedData(feeds, feed.name, feed.kind, feed.shape);
    const backend = await this.backend();
    this.checkDevice(backend);

    const buffers = new Map<number, Value>();
    for (const buffer of program.buffers) {
      const source = buffer.source;
      if (source.kind === 'input' || source.kind === 'param') {
        buffers.set(buffer.id, { kind: 'host', data: feedData(feeds, source.name, source.kind, buffer.shape) });
      } else if (source.kind === 'literal') {
        buffers.set(buffer.id, { kind: 'host', data: source.data });
      }
    }
    const temps: Value[] = [];
    const inputs = new Map<Float32Array, Input>();
    const argument = (value: Value): Input | Texture => {
      if (value.kind === 'texture') return value.texture;
      let wrapped = inputs.get(value.data);
      if (wrapped === undefined) {
        wrapped = backend.input(value.data, [value.data.length]);
        inputs.set(value.data, wrapped);
      }
      return wrapped;
    };
    const read = (storage: Storage): Value => {
      const value = storage.kind === 'buffer' ? buffers.get(storage.buffer) : temps[storage.temp];
      if (value === undefined) throw new Error(`internal error: ${JSON.stringify(storage)} is read before it is written`);
      return value;
    };

    this.plan.steps.forEach((step, s) => {
      switch (step.kind) {
        case 'randn': {
          const key = hostData(read({ kind: 'buffer', buffer: step.key }))[0]!;
          const data = new Float32Array(numel(step.shape));
          fillRandn(data, key, step.stream);
          temps[step.temp] = { kind: 'host', data };
          return;
        }
        case 'kernel': {
          const kernel = this.kernel(s, step.kernel, backend);
          const result = kernel(...step.kernel.args.map((storage) => argument(read(storage)))) as unknown;
          const value = toValue(result, step.kernel.layout.size);
          if (step.kernel.writes.kind === 'buffer') buffers.set(step.kernel.writes.buffer, value);
          else temps[step.kernel.writes.temp] = value;
          return;
        }
        default:
          assertNever(step);
      }
    });

    const result: TensorMap = {};
    for (const [name, buffer] of program.outputs) {
      const data = hostData(read({ kind: 'buffer', buffer }));
      result[name] = { shape: [...program.buffers[buffer]!.shape], data: data.slice(0, numel(program.buffers[buffer]!.shape)) };
    }
    return result;
  }

  private kernel(step: number, source: GpuKernel, backend: WebglBackend): IKernelRunShortcut {
    let kernel = this.kernels.get(step);
    if (kernel === undefined) {
      kernel = backend.gpu.createKernel(source.source, {
        output: [source.layout.width, source.layout.height],
        precision: 'single',
        pipeline: backend.mode !== 'cpu',
        tactic: 'precision',
        immutable: false,
        dynamicOutput: false,
      });
      this.kernels.set(step, kernel);
    }
    return kernel;
  }

  /** Checks once that the device's MAX_TEXTURE_SIZE covers the planned layouts. */
  private checkDevice(backend: WebglBackend): void {
    const limit = backend.maxTextureSize;
    if (this.deviceChecked || limit === undefined) return;
    this.deviceChecked = true;
    let side = 0;
    for (const step of this.plan.steps) if (step.kind === 'kernel') side = Math.max(side, step.kernel.layout.width, step.kernel.layout.height);
    if (side > limit) {
      throw new WebglLayoutError(
        `the program needs textures of ${side} texels on a side, but this device's MAX_TEXTURE_SIZE is ${limit}; ` +
          `create the target with maxTextureSize: ${limit}`,
      );
    }
  }
}

/** Wraps a kernel result: a texture in the GL modes, rows of floats in cpu mode. */
function toValue(result: unknown, size: number): Value {
  if (result !== null && typeof result === 'object' && 'toArray' in result && !Array.isArray(result)) {
    return { kind: 'texture', texture: result as Texture, size };
  }
  return { kind: 'host', data: flattenRows(result as ArrayLike<number> | ArrayLike<number>[], size) };
}

/** Copies the first `size` values of a one-dimensional result, or of a two-dimensional one row by row. */
function flattenRows(rows: ArrayLike<number> | ArrayLike<number>[], size: number): Float32Array {
  const data = new Float32Array(size);
  if (rows.length > 0 && typeof rows[0] === 'number') {
    const values = rows as ArrayLike<number>;
    for (let k = 0; k < Math.min(size, values.length); k++) data[k] = values[k]!;
    return data;
  }
  let offset = 0;
  for (const row of rows as ArrayLike<number>[]) {
    if (offset >= size) break;
    const count = Math.min(row.length, size - offset);
    for (let k = 0; k < count; k++) data[offset + k] = row[k]!;
    offset += count;
  }
  return data;
}

function hostData(value: Value): Float32Array {
  if (value.kind === 'host') return value.data;
  return flattenRows(value.texture.toArray() as unknown as ArrayLike<number>[], value.size);
}

function feedData(feeds: TensorMap, name: string, kind: 'input' | 'param', shape: Shape): Float32Array {
  const role = kind === 'param' ? 'parameter' : 'input';
  const feed = feeds[name];
  if (feed === undefined) throw new Error(`missing feed for ${role} '${name}': expected a tensor of shape ${formatShape(shape)}`);
  if (feed.shape.length !== shape.length || feed.shape.some((d, i) => d !== shape[i]) || feed.data.length !== numel(shape)) {
    throw new Error(`invalid feed for ${role} '${name}': expected shape ${formatShape(shape)}, got ${formatShape(feed.shape)}`);
  }
  return feed.data;
}
