// Host-side inputs of the sampling commands: per-seed noise maps, spherical interpolation of latents,
// style-layer ranges by name and the mixing and truncation vectors fed to the generator.

import type { ModelSpec } from '../../model/spec.ts';
import { Rng } from '../rng.ts';
import { tensor, type Tensor, type TensorMap } from '../tensor.ts';
import { UsageError } from '../train/options.ts';
import { styleLayersAtStage } from '../train/semantics.ts';

/** Offset that keeps noise streams apart from latent streams: noise of seed s comes from `new Rng(s + 2^32)`. */
export const NOISE_STREAM_OFFSET = 2 ** 32;

/**
 * Returns one noise tensor [N, 1, H, W] per noise layer. Image i's maps are the normals of
 * `new Rng(noiseSeeds[i] + 2^32)`, layer after layer, so an image's noise does not depend on the
 * other images of its batch.
 */
export function noiseForSeeds(layers: readonly { input: string; size: number }[], noiseSeeds: readonly number[]): TensorMap {
  const n = noiseSeeds.length;
  const maps: TensorMap = {};
  for (const layer of layers) maps[layer.input] = tensor([n, 1, layer.size, layer.size]);
  noiseSeeds.forEach((seed, i) => {
    const rng = new Rng(seed + NOISE_STREAM_OFFSET);
    for (const layer of layers) {
      const plane = layer.size * layer.size;
      maps[layer.input]!.data.set(rng.normals(plane), i * plane);
    }
  });
  return maps;
}

/**
 * Spherical interpolation between latents a and b at t in [0, 1]. Falls back to linear interpolation
 * when the two are (anti)parallel, where the great circle is undefined or numerically unstable.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  const cosine = Math.min(1, Math.max(-1, dot / Math.sqrt(normA * normB)));
  const omega = Math.acos(cosine);
  const sine = Math.sin(omega);
  const out = new Float32Array(a.length);
  if (!(sine > 1e-6)) {
    for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * t;
    return out;
  }
  const weightA = Math.sin((1 - t) * omega) / sine;
  const weightB = Math.sin(t * omega) / sine;
  for (let i = 0; i < a.length; i++) out[i] = weightA * a[i]! + weightB * b[i]!;
  return out;
}

/** Resolution bounds of the named style groups of the StyleGAN paper's style-mixing figure. */
export const STYLE_GROUPS = {
  coarse: { min: 4, max: 8 },
  middle: { min: 16, max: 32 },
  fine: { min: 64, max: Infinity },
} as const;

/** A contiguous range of style layer indices, both ends included. */
export interface StyleRange {
  first: number;
  last: number;
  /** The words the user gave, for messages. */
  label: string;
}

/**
 * Parses `--styles`: coarse, middle, fine or A-B (style layer indices, both included; a single index
 * A is allowed too). Throws UsageError for a group without layers at resolution `res` or indices
 * outside the layers the generator uses at `res`.
 */
export function parseStyleRange(text: string, spec: ModelSpec, res: number): StyleRange {
  const active = styleLayersAtStage(spec, res);
  const name = text.trim();
  if (name === 'coarse' || name === 'middle' || name === 'fine') {
    const { min, max } = STYLE_GROUPS[name];
    const indices = spec.styleLayers.filter((s) => s.index < active && s.res >= min && s.res <= max).map((s) => s.index);
    if (indices.length === 0) {
      const bounds = max === Infinity ? `${min}x${min} and up` : `${min}x${min} to ${max}x${max}`;
      throw new UsageError(
        `--styles ${name}: this ${res}x${res} generator has no style layers at ${bounds}, so the ${name} styles are empty; ` +
          `give a range of style layers instead, for example 0-${active - 1}`,
      );
    }
    return { first: Math.min(...indices), last: Math.max(...indices), label: name };
  }
  const match = /^(\d+)(?:-(\d+))?$/.exec(name);
  if (match === null) throw new UsageError(`--styles: invalid value '${text}'; expected coarse, middle, fine or a range A-B of style layers`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (last < first) throw new UsageError(`--styles: range '${name}' ends before it starts`);
  if (last >= active) {
    throw new UsageError(
      `--styles: style layer ${last} is out of range; the generator at ${res}x${res} has ${active} style layers, 0-${active - 1}`,
    );
  }
  return { first, last, label: name };
}

/** Returns the `mix` input with 1 (take the second w) on the layers of `range`, 0 elsewhere. */
export function mixForRange(totalLayers: number, range: StyleRange): Tensor {
  const mix = tensor([totalLayers]);
  for (let i = range.first; i <= range.last; i++) mix.data[i] = 1;
  return mix;
}

/** Returns a mix vector with the same blend weight `t` on every layer: linear interpolation in w. */
export function uniformMix(totalLayers: number, t: number): Tensor {
  const mix = tensor([totalLayers]);
  mix.data.fill(t);
  return mix;
}

/** Returns `count` copies of row `index` of a [N, D] tensor as a [count, D] tensor. */
export function repeatRow(source: Tensor, index: number, count: number): Tensor {
  const width = source.shape[1]!;
  const row = source.data.subarray(index * width, (index + 1) * width);
  const out = tensor([count, width]);
  for (let i = 0; i < count; i++) out.data.set(row, i * width);
  return out;
}

/** Parses a comma-separated list of finite numbers such as `1,0.7,0.5,0,-0.5`. */
export function parseNumberList(flag: string, text: string): number[] {
  const values = text.split(',').map((part) => {
    const value = Number(part);
    if (part.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag}: invalid number '${part}' in '${text}'`);
    return value;
  });
  return values;
}
