// Adam (Kingma and Ba, 2015) on host tensors, with state that can be saved in a checkpoint.
// The update is the bias-corrected form
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
// NOTE: TensorFlow's AdamOptimizer, which the original StyleGAN used, adds eps before the bias
// correction of v instead. With eps = 1e-8 the two differ only when sqrt(v) is near eps.

import { formatShape, numel, sameShape } from '../ir/graph.ts';
import type { Tensor, TensorMap } from './tensor.ts';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

/** Adam optimizer state for a fixed set of named parameters. */
export class Adam {
  private readonly shapes: Record<string, number[]>;
  private readonly m: Record<string, Float32Array> = {};
  private readonly v: Record<string, Float32Array> = {};
  private stepCount = 0;

  constructor(
    shapes: Record<string, number[]>,
    private readonly opts: AdamOptions,
  ) {
    const { beta1, beta2, eps } = opts;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0)) {
      throw new Error(`invalid Adam options beta1 ${beta1}, beta2 ${beta2}, eps ${eps}: expected betas in [0, 1) and eps > 0`);
    }
    this.shapes = {};
    for (const [name, shape] of Object.entries(shapes)) {
      this.shapes[name] = [...shape];
      this.m[name] = new Float32Array(numel(shape));
      this.v[name] = new Float32Array(numel(shape));
    }
  }

  /** Number of steps taken since construction or the last reset. */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * Updates every parameter this optimizer was built for, in place. Entries of `params` and `grads`
   * with other names are ignored, so one map may feed several optimizers.
   */
  step(params: TensorMap, grads: TensorMap, lr: number): void {
    for (const name of Object.keys(this.shapes)) {
      this.checkTensor('parameter', name, params[name]);
      this.checkTensor('gradient', name, grads[name]);
    }

    this.stepCount += 1;
    const { beta1, beta2, eps } = this.opts;
    const mCorrection = 1 - beta1 ** this.stepCount;
    const vCorrection = 1 - beta2 ** this.stepCount;
    for (const name of Object.keys(this.shapes)) {
      const p = params[name]!.data;
      const g = grads[name]!.data;
      const m = this.m[name]!;
      const v = this.v[name]!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        p[i] = p[i]! - (lr * (m[i]! / mCorrection)) / (Math.sqrt(v[i]! / vCorrection) + eps);
      }
    }
  }

  /** Zeroes both moments and the step count, as StyleGAN does at each new resolution. */
  reset(): void {
    for (const name of Object.keys(this.shapes)) {
      this.m[name]!.fill(0);
      this.v[name]!.fill(0);
    }
    this.stepCount = 0;
  }

  /**
   * Returns the moments as 'adam.m.<name>' and 'adam.v.<name>'. The tensors share storage with the
   * optimizer, so write them out before the next step and do not modify them.
   */
  stateTensors(): TensorMap {
    const out: TensorMap = {};
    for (const [name, shape] of Object.entries(this.shapes)) {
      out[`adam.m.${name}`] = { shape: [...shape], data: this.m[name]! };
      out[`adam.v.${name}`] = { shape: [...shape], data: this.v[name]! };
    }
    return out;
  }

  /** Copies moments saved by stateTensors back in; other entries of `tensors` are ignored. */
  loadState(tensors: TensorMap, steps: number): void {
    if (!Number.isInteger(steps) || steps < 0) {
      throw new Error(`invalid Adam step count ${steps}: expected a non-negative integer`);
    }
    for (const name of Object.keys(this.shapes)) {
      this.checkTensor('saved moment', `adam.m.${name}`, tensors[`adam.m.${name}`], name);
      this.checkTensor('saved moment', `adam.v.${name}`, tensors[`adam.v.${name}`], name);
    }
    for (const name of Object.keys(this.shapes)) {
      this.m[name]!.set(tensors[`adam.m.${name}`]!.data);
      this.v[name]!.set(tensors[`adam.v.${name}`]!.data);
    }
    this.stepCount = steps;
  }

  private checkTensor(role: string, key: string, t: Tensor | undefined, param = key): void {
    const shape = this.shapes[param]!;
    if (t === undefined) {
      throw new Error(`Adam: missing ${role} '${key}'`);
    }
    if (!sameShape(t.shape, shape) || t.data.length !== numel(shape)) {
      throw new Error(`Adam: ${role} '${key}' has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
    }
  }
}
