// Seeded host-side random numbers for the trainer (latents, style-mixing crossover, minibatch order,
// mirroring). The generator is xoshiro128** (Blackman and Vigna, 2018) in 32-bit integer arithmetic,
// so the same seed gives the same stream on every platform and the state fits in a checkpoint.

/** A seeded xoshiro128** generator whose full state can be saved with getState and restored. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The second value of the last Box-Muller pair, used by the next normal() call. */
  private spareNormal: number | undefined;

  /** Seeds the state from any finite integer seed (including values above 2^32) with splitmix32. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`invalid RNG seed ${seed}: expected a safe integer`);
    }
    const low = seed >>> 0;
    const high = Math.floor(seed / 2 ** 32) >>> 0;
    let x = (low ^ Math.imul(high, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // xoshiro's only forbidden state is all zeros.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Restores a generator from the array returned by getState. */
  static fromState(state: readonly number[]): Rng {
    const words = state.slice(0, 4);
    if (
      (state.length !== 4 && state.length !== 5) ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) ||
      words.every((w) => w === 0)
    ) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}: expected four uint32 words, not all zero, and an optional spare normal`);
    }
    if (state.length === 5 && !Number.isFinite(state[4])) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}: the spare normal must be a finite number`);
    }
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = words as [number, number, number, number];
    rng.spareNormal = state.length === 5 ? state[4] : undefined;
    return rng;
  }

  /** Returns the state as four uint32 words, plus the pending spare normal when there is one (JSON-safe). */
  getState(): number[] {
    const words = [this.s0, this.s1, this.s2, this.s3];
    return this.spareNormal === undefined ? words : [...words, this.spareNormal];
  }

  /** Advances the state and returns the next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** Returns a uniform number in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Returns a standard normal sample (Box-Muller, both values of each pair used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    // 1 - uniform() lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Returns a uniform integer in [0, n) without modulo bias, for an integer n in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new Error(`invalid range ${n} for Rng.int: expected an integer in [1, 2^32]`);
    }
    // Rejecting the top partial block of 2^32 makes every residue equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % n;
    }
  }

  /** Returns `count` standard normal samples. */
  normals(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal();
    return out;
  }

  /** Returns a uniformly random permutation of 0 .. n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = out[i]!;
      out[i] = out[j]!;
      out[j] = swap;
    }
    return out;
  }
}

function rotateLeft(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
