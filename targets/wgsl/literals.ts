// Literal formatting for WGSL source: exact float32 constants and u32 constants.

import type { Shape } from '../../src/ir/graph.ts';

/**
 * Formats a value rounded to float32 as a WGSL f32 literal that parses back to the same bits.
 * The shortest decimal of a float32 value held in a double parses to that double, which is the
 * nearest f32 to itself. Infinities and NaN have no literal, so they are bit casts.
 */
export function f32Literal(value: number): string {
  const v = Math.fround(value);
  if (Number.isNaN(v)) return 'f32_from_bits(0x7fc00000u)';
  if (v === Infinity) return 'f32_from_bits(0x7f800000u)';
  if (v === -Infinity) return 'f32_from_bits(0xff800000u)';
  if (Object.is(v, -0)) return '-0.0f';
  const text = String(v);
  return /[.e]/.test(text) ? `${text}f` : `${text}.0f`;
}

export function u32Literal(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) throw new Error(`internal error: ${value} is not a u32`);
  return `${value}u`;
}

/** Returns the row-major strides of a shape, in elements. */
export function rowMajorStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}
