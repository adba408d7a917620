// WGSL helper functions that kernels include when an expression needs them.

import type { Kernel } from '../../src/kernel/kernel.ts';

const IS_NAN = `fn is_nan(v: f32) -> bool {
  // A comparison v != v may be folded away, because WGSL lets compilers assume no NaN; the bits cannot.
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}`;

const FROM_BITS = `fn f32_from_bits(bits: u32) -> f32 {
  // A call, not a constant: WGSL rejects constant expressions that evaluate to an infinity or NaN.
  return bitcast<f32>(bits);
}`;

const SOFTPLUS = `fn softplus(v: f32) -> f32 {
  // log1p(e) as log(w) * e / (w - 1) with w = 1 + e keeps small e accurate.
  let e = exp(-abs(v));
  let w = 1.0 + e;
  var tail = e;
  if (w != 1.0) { tail = log(w) * e / (w - 1.0); }
  return max(v, 0.0) + tail;
}`;

const SIGMOID = `fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}`;

/** Threefry-2x32 round rotations, from the generator's specification in src/ir/rng.ts. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

/**
 * Returns randn_at(key, stream, index): Threefry-2x32-20 with key words (key, stream) and counter
 * (index, 0), two 24-bit uniforms in (0, 1], then Box-Muller, the same bits as the host generator
 * up to the last step. The rounds are unrolled with their constant rotations. ln(u) is a series in
 * s = (u - 1) / (u + 1) for u >= 0.5, because WGSL only bounds log's absolute error near 1, and
 * cos(2 pi u) is evaluated as -cos(2 pi (u - 0.5)), whose argument lies in [-pi, pi], where WGSL
 * bounds cos's error.
 */
function randnSource(): string {
  const lines = [
    'fn randn_at(key: u32, stream: u32, index: u32) -> f32 {',
    '  let ks0 = key;',
    '  let ks1 = stream;',
    '  let ks2 = 0x1bd11bdau ^ key ^ stream;',
    '  var x0 = index + ks0;',
    '  var x1 = ks1;',
  ];
  const keys = ['ks0', 'ks1', 'ks2'];
  for (let r = 0; r < 20; r++) {
    const rotation = ROTATIONS[r % 8]!;
    lines.push(`  x0 += x1; x1 = ((x1 << ${rotation}u) | (x1 >> ${32 - rotation}u)) ^ x0;`);
    if (r % 4 === 3) {
      const j = (r + 1) / 4;
      lines.push(`  x0 += ${keys[j % 3]}; x1 += ${keys[(j + 1) % 3]} + ${j}u;`);
    }
  }
  lines.push(
    '  let u0 = f32((x0 >> 8u) + 1u) * 5.9604644775390625e-8f;',
    '  let u1 = f32((x1 >> 8u) + 1u) * 5.9604644775390625e-8f;',
    '  var log_u0 = log(u0);',
    '  if (u0 >= 0.5) {',
    '    let s = (u0 - 1.0) / (u0 + 1.0);',
    '    let s2 = s * s;',
    '    var series = 1.0 / 17.0;',
    '    for (var k = 15; k >= 1; k -= 2) { series = series * s2 + 1.0 / f32(k); }',
    '    log_u0 = 2.0 * s * series;',
    '  }',
    '  return sqrt(-2.0 * log_u0) * -cos(6.2831853071795864f * (u1 - 0.5));',
    '}',
  );
  return lines.join('\n');
}

/** Returns the helper functions that the kernel's expressions call, in a fixed order. */
export function helpersFor(kernel: Kernel): string[] {
  const unaryOps = new Set(kernel.exprs.flatMap((expr) => (expr.kind === 'unary' ? [expr.op] : [])));
  const helpers: string[] = [];
  const hasMax = kernel.exprs.some((expr) => expr.kind === 'reduce' && expr.op === 'max');
  const nonFiniteFill = kernel.exprs.some((expr) => expr.kind === 'fill' && !Number.isFinite(expr.value));
  if (hasMax || nonFiniteFill) helpers.push(FROM_BITS);
  if (hasMax) helpers.push(IS_NAN);
  if (unaryOps.has('softplus')) helpers.push(SOFTPLUS);
  if (unaryOps.has('sigmoid')) helpers.push(SIGMOID);
  if (kernel.exprs.some((expr) => expr.kind === 'randn')) helpers.push(randnSource());
  return helpers;
}
