// Initial parameter values: a seeded normal draw or a constant per ParamSpec.init. Each parameter
// draws from its own generator seeded by (seed, parameter name), so a parameter's initial value does
// not change when other parameters are added to or removed from the model.

import { numel } from '../ir/graph.ts';
import type { ModelSpec, ParamSpec } from '../model/spec.ts';
import type { Tensor, TensorMap } from '../runtime/tensor.ts';

/** Creates every parameter of `spec`, by name; the same seed gives bit-identical tensors. */
export function initParams(spec: ModelSpec, seed: number): TensorMap {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const params: TensorMap = {};
  for (const p of spec.params) params[p.name] = initParam(p, seed);
  return params;
}

export function initParam(p: ParamSpec, seed: number): Tensor {
  const data = new Float32Array(numel(p.shape));
  if (p.init.kind === 'constant') {
    data.fill(p.init.value);
  } else {
    const next = normalStream(seed, p.name);
    for (let i = 0; i < data.length; i++) data[i] = p.init.std * next();
  }
  return { shape: [...p.shape], data };
}

/**
 * Standard normal samples: Box-Muller on the uniform outputs of a 32-bit Mulberry32 generator whose
 * state starts from the seed mixed with the FNV-1a hash of `name`.
 */
function normalStream(seed: number, name: string): () => number {
  const uniform = mulberry32(mix32(fnv1a(name) ^ mix32(seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32))));
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** Uniform numbers in [0, 1) with 32 bits of resolution. */
function mulberry32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Mixes the bits of a 32-bit integer (MurmurHash3's fmix32 finalizer) so that nearby seeds differ widely. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
