/**
 * The counter-based normal generator behind the `randn` node. Every target (JS, WGSL, GLSL) must
 * produce the same bits, so the algorithm is specified here exactly and uses only 32-bit unsigned
 * add (mod 2^32), xor, shifts and rotations.
 *
 * Element `i` of stream `s` under key `k`:
 *
 * 1. Block: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 *    SC 2011), key words (k0, k1) = (k, s), counter words (x0, x1) = (i, 0), all u32.
 *    - ks0 = k0, ks1 = k1, ks2 = 0x1BD11BDA ^ k0 ^ k1.
 *    - x0 += ks0; x1 += ks1.
 *    - For round r = 0..19: x0 += x1; x1 = rotl(x1, R[r % 8]); x1 ^= x0,
 *      with R = [13, 15, 26, 6, 17, 29, 16, 24].
 *      After rounds 3, 7, 11, 15 and 19, with j = (r + 1) / 4: x0 += ks[j % 3]; x1 += ks[(j + 1) % 3] + j.
 * 2. Uniforms: u0 = ((x0 >> 8) + 1) * 2^-24 and u1 = ((x1 >> 8) + 1) * 2^-24. Both lie in (0, 1] and
 *    are exact in float32, so every target starts Box-Muller from the same two floats.
 * 3. Box-Muller: z = sqrt(-2 * ln(u0)) * cos(2 * pi * u1). Only this step depends on the target's
 *    log, sqrt and cos, so values agree up to their rounding. |z| <= sqrt(48 ln 2) ~ 5.77.
 *
 * The key is a float32 scalar holding an integer in [0, 2^24), so it survives the float32 round trip
 * and converts to a u32 without loss. `stream` is a non-negative integer below 2^32 that distinguishes
 * call sites, and `i` is the row-major element index.
 */

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const KEY_PARITY = 0x1bd11bda;

/** The largest key plus one: keys are integers stored exactly in float32. */
export const RANDN_KEY_LIMIT = 2 ** 24;

/** Threefry-2x32-20 of the counter (c0, c1) under the key (k0, k1); returns the two output words. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (KEY_PARITY ^ ks0 ^ ks1) >>> 0;
  const ks = [ks0, ks1, ks2];
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const rot = ROTATIONS[r % 8]!;
    x1 = ((x1 << rot) | (x1 >>> (32 - rot))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const j = (r + 1) / 4;
      x0 = (x0 + ks[j % 3]!) >>> 0;
      x1 = (x1 + ks[(j + 1) % 3]! + j) >>> 0;
    }
  }
  return [x0, x1];
}

function checkKey(key: number, stream: number): void {
  if (!Number.isInteger(key) || key < 0 || key >= RANDN_KEY_LIMIT) {
    throw new Error(`invalid randn key ${key}: expected an integer in [0, 2^24)`);
  }
  if (!Number.isInteger(stream) || stream < 0 || stream >= 2 ** 32) {
    throw new Error(`invalid randn stream ${stream}: expected an integer in [0, 2^32)`);
  }
}

const INV_2_24 = 2 ** -24;

function boxMuller(x0: number, x1: number): number {
  const u0 = ((x0 >>> 8) + 1) * INV_2_24;
  const u1 = ((x1 >>> 8) + 1) * INV_2_24;
  return Math.sqrt(-2 * Math.log(u0)) * Math.cos(2 * Math.PI * u1);
}

/** Returns element `index` of stream `stream` under `key`, a standard normal sample. */
export function randnAt(key: number, stream: number, index: number): number {
  checkKey(key, stream);
  const [x0, x1] = threefry2x32(key, stream, index, 0);
  return boxMuller(x0, x1);
}

/** Fills `out` with elements 0 .. out.length - 1 of stream `stream` under `key`. */
export function fillRandn(out: Float32Array, key: number, stream: number): void {
  checkKey(key, stream);
  // The same rounds as threefry2x32, inlined because this loop runs once per noise element.
  const ks0 = key >>> 0;
  const ks1 = stream >>> 0;
  const ks2 = (KEY_PARITY ^ ks0 ^ ks1) >>> 0;
  const ks = [ks0, ks1, ks2];
  for (let i = 0; i < out.length; i++) {
    let x0 = (i + ks0) >>> 0;
    let x1 = ks1;
    for (let r = 0; r < 20; r++) {
      x0 = (x0 + x1) >>> 0;
      const rot = ROTATIONS[r & 7]!;
      x1 = ((x1 << rot) | (x1 >>> (32 - rot))) ^ x0;
      x1 >>>= 0;
      if ((r & 3) === 3) {
        const j = (r + 1) >> 2;
        x0 = (x0 + ks[j % 3]!) >>> 0;
        x1 = (x1 + ks[(j + 1) % 3]! + j) >>> 0;
      }
    }
    out[i] = boxMuller(x0, x1);
  }
}
