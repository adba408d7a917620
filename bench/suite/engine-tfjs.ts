// TensorFlow.js as an engine (@tensorflow/tfjs-core with its cpu and wasm backends). The networks
// are built from the same ModelSpec layer lists as sganc's, in NHWC, the layout both backends run
// convolutions in. Feeds are converted to NHWC before timing and outputs back to NCHW for the gate.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { blurTaps } from '../../src/layers/resample.ts';
import type { Layer, ModelSpec, ParamSpec } from '../../src/model/spec.ts';
import type { Tensor, TensorMap } from '../../src/runtime/tensor.ts';
import type { BenchCase } from './cases.ts';
import type { Engine, Runner } from './rows.ts';

// The cpu backend's first write in Node prints a banner that recommends tfjs-node, which does not
// install here. Production mode silences that warning and changes nothing that is timed.
tf.env().set('PROD', true);

type Tf4 = tf.Tensor4D;

interface Net {
  /** Parameters by name, already in the layout their layer reads, unscaled. */
  params: Map<string, tf.Tensor>;
  scales: Map<string, number>;
  /** Inputs by name, NHWC for images and noise. */
  inputs: Map<string, tf.Tensor>;
}

function toNhwc(t: Tensor): tf.Tensor {
  const x = tf.tensor(t.data, t.shape);
  if (t.shape.length !== 4) return x;
  const y = tf.transpose(x, [0, 2, 3, 1]);
  x.dispose();
  return y;
}

/** Converts conv weights `[O, I, kh, kw]` to TensorFlow's filter layout `[kh, kw, I, O]`. */
function filterTensor(t: Tensor): tf.Tensor {
  const x = tf.tensor(t.data, t.shape);
  const y = tf.transpose(x, [2, 3, 1, 0]);
  x.dispose();
  return y;
}

/** Conv weights take the filter layout; every other parameter keeps its shape. */
function paramTensor(p: ParamSpec, t: Tensor): tf.Tensor {
  return p.shape.length === 4 ? filterTensor(t) : tf.tensor(t.data, t.shape);
}

function scaled(net: Net, name: string): tf.Tensor {
  const p = net.params.get(name);
  if (p === undefined) throw new Error(`parameter ${name} is missing`);
  return tf.mul(p, net.scales.get(name) ?? 1);
}

/** Applies one layer to x: `[N, C]` or NHWC `[N, H, W, C]`. `style(i)` returns the w of style layer i. */
function applyLayer(net: Net, x: tf.Tensor, layer: Layer, style: (index: number) => tf.Tensor): tf.Tensor {
  switch (layer.kind) {
    case 'pixelnorm': {
      const meanSquare = tf.mean(tf.square(x), -1, true);
      return tf.mul(x, tf.rsqrt(tf.add(meanSquare, layer.eps)));
    }
    case 'dense': {
      const y = tf.matMul(x as tf.Tensor2D, scaled(net, layer.weight) as tf.Tensor2D, false, true);
      return layer.bias === undefined ? y : tf.add(y, scaled(net, layer.bias));
    }
    case 'conv': {
      const y = tf.conv2d(x as Tf4, scaled(net, layer.weight) as Tf4, 1, 'same');
      return layer.bias === undefined ? y : tf.add(y, scaled(net, layer.bias));
    }
    case 'bias':
      return tf.add(x, scaled(net, layer.param));
    case 'lrelu':
      return tf.mul(tf.leakyRelu(x, layer.slope), layer.gain);
    case 'noise': {
      const noise = net.inputs.get(layer.input);
      if (noise === undefined) throw new Error(`noise input ${layer.input} is missing`);
      return tf.add(x, tf.mul(scaled(net, layer.strength), noise));
    }
    case 'adain': {
      const { mean, variance } = tf.moments(x, [1, 2], true);
      const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, layer.eps)));
      const affine = tf.add(tf.matMul(style(layer.styleIndex) as tf.Tensor2D, scaled(net, layer.styleWeight) as tf.Tensor2D, false, true), scaled(net, layer.styleBias));
      const n = x.shape[0]!;
      const c = layer.channels;
      const scale = tf.reshape(tf.slice(affine, [0, 0], [n, c]), [n, 1, 1, c]);
      const bias = tf.reshape(tf.slice(affine, [0, c], [n, c]), [n, 1, 1, c]);
      return tf.add(tf.mul(normalized, tf.add(scale, 1)), bias);
    }
    case 'upsample': {
      const [, h, w] = x.shape as [number, number, number, number];
      if (layer.mode === 'nearest') return tf.image.resizeNearestNeighbor(x as Tf4, [2 * h, 2 * w]);
      return tf.image.resizeBilinear(x as Tf4, [2 * h, 2 * w], false, true);
    }
    case 'blur': {
      const k = layer.kernel.length;
      const channels = x.shape[3]!;
      const taps = tf.tile(tf.tensor4d(blurTaps(layer.kernel), [k, k, 1, 1]), [1, 1, channels, 1]);
      return tf.depthwiseConv2d(x as Tf4, taps as Tf4, 1, 'same');
    }
    case 'downsample':
      return tf.avgPool(x as Tf4, 2, 2, 'valid');
    case 'mbstd':
    case 'flatten':
      throw new Error(`layer ${layer.kind} is not built for TensorFlow.js in this suite`);
  }
}

function applyLayers(net: Net, x: tf.Tensor, layers: readonly Layer[], style: (index: number) => tf.Tensor): tf.Tensor {
  let y = x;
  for (const layer of layers) y = applyLayer(net, y, layer, style);
  return y;
}

function generator(net: Net, spec: ModelSpec, stage: number): tf.Tensor {
  const w = applyLayers(net, net.inputs.get('z')!, spec.mapping.layers, () => {
    throw new Error('the mapping network has no style input');
  });
  const { constant, stages } = spec.synthesis;
  const batch = w.shape[0]!;
  const learned = tf.transpose(tf.reshape(scaled(net, constant.param), [1, constant.channels, constant.size, constant.size]), [0, 2, 3, 1]);
  let x: tf.Tensor = tf.tile(learned, [batch, 1, 1, 1]);
  const active = stages.filter((s) => s.res <= stage);
  for (const s of active) x = applyLayers(net, x, s.layers, () => w);
  return applyLayers(net, x, active[active.length - 1]!.torgb, () => w);
}

/** Builds the forward computation of a case; returns the output name and NHWC tensor. */
function forward(c: BenchCase, net: Net): [string, tf.Tensor] {
  const input = (name: string): tf.Tensor => net.inputs.get(name)!;
  switch (c.peer.kind) {
    case 'conv2d':
      return ['conv/out', tf.conv2d(input('x') as Tf4, input('w') as Tf4, c.peer.stride, 'same')];
    case 'matmul':
      return ['matmul/out', tf.matMul(input('a') as tf.Tensor2D, input('b') as tf.Tensor2D)];
    case 'layers':
      return ['layer/y', applyLayers(net, input('x'), c.peer.layers, () => input('w'))];
    case 'mapping':
      return ['mapping/w', applyLayers(net, input('z'), c.spec!.mapping.layers, () => input('z'))];
    case 'generator':
      return ['generator/image', generator(net, c.spec!, c.peer.stage)];
    case 'train':
    case 'compile':
      throw new Error(`case kind ${c.peer.kind} is not built for TensorFlow.js`);
  }
}

function paramTable(c: BenchCase): ParamSpec[] {
  if (c.peer.kind === 'layers') return c.peer.params;
  return c.spec?.params ?? [];
}

function buildNet(c: BenchCase): Net {
  const params = new Map<string, tf.Tensor>();
  const scales = new Map<string, number>();
  const table = paramTable(c);
  const paramNames = new Set(table.map((p) => p.name));
  for (const p of table) {
    const t = c.feeds[p.name];
    if (t === undefined) continue;
    params.set(p.name, paramTensor(p, t));
    scales.set(p.name, p.runtimeScale);
  }
  const inputs = new Map<string, tf.Tensor>();
  for (const [name, t] of Object.entries(c.feeds)) {
    if (paramNames.has(name)) continue;
    // The filter of the conv2d case is an input, but it takes the filter layout.
    const isFilter = c.peer.kind === 'conv2d' && name === 'w';
    inputs.set(name, isFilter ? filterTensor(t) : toNhwc(t));
  }
  return { params, scales, inputs };
}

async function toHost(name: string, y: tf.Tensor): Promise<TensorMap> {
  const nchw = y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
  const data = (await nchw.data()) as Float32Array;
  const result: TensorMap = { [name]: { shape: nchw.shape, data: Float32Array.from(data) } };
  if (nchw !== y) nchw.dispose();
  return result;
}

/** The reason TensorFlow.js skips the training step, per backend. */
const TRAIN_SKIP_REASON = {
  wasm: 'not built: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so it cannot take conv weight gradients',
  cpu: 'not built: tfjs-core registers no gradients by itself, and the @tensorflow/tfjs bundle that registers them is not installed',
};

export function tfjsEngine(backend: 'cpu' | 'wasm'): Engine {
  return {
    name: `tfjs ${backend}`,
    sganc: false,
    skipReason(c) {
      if (c.peer.kind === 'compile') return 'sganc only';
      if (c.peer.kind === 'train') return TRAIN_SKIP_REASON[backend];
      return undefined;
    },
    async prepare(c) {
      if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} failed to initialize`);
      await tf.ready();
      const net = buildNet(c);
      const once = async (): Promise<[string, tf.Tensor]> => {
        const [name, y] = tf.tidy(() => forward(c, net));
        await y.data();
        return [name, y];
      };
      const runner: Runner = {
        async run() {
          const [name, y] = await once();
          const result = await toHost(name, y);
          y.dispose();
          return result;
        },
        // Times the forward pass and the download of its output, without the conversion to NCHW.
        async time(warmup, runs) {
          const times: number[] = [];
          for (let i = 0; i < warmup + runs; i++) {
            const start = performance.now();
            const [, y] = await once();
            if (i >= warmup) times.push(performance.now() - start);
            y.dispose();
          }
          return times;
        },
        async kernels() {
          const info = await tf.profile(async () => {
            const [, y] = await once();
            y.dispose();
          });
          return info.kernels.length;
        },
        dispose() {
          for (const t of [...net.params.values(), ...net.inputs.values()]) t.dispose();
        },
      };
      return runner;
    },
  };
}

/** Describes the TensorFlow.js build for the report. */
export function tfjsVersion(): string {
  return tf.version_core;
}
