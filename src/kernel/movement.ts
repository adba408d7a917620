// Index maps of the movement expressions that read one operand element per output element
// (permute, broadcast, slice, flip): operand index = base + the sum over output axes a of
// coord[a] * multiplier[a]. movementMultipliers gives one movement's map, which the executor of
// fused programs in targets/ref uses. composeMovements extends the map through a chain of these
// movements and zero padding, with range checks for the padding. The cpu, wgsl and webgl code
// generators print the composed map, so each splits the flat index into coordinates once per chain.

import { assertNever, type Shape } from '../ir/graph.ts';
import type { KernelExpr } from './kernel.ts';

/** A movement whose operand index is an affine function of the output coordinates. */
export type AffineMovement = Extract<KernelExpr, { kind: 'permute' | 'broadcast' | 'slice' | 'flip' }>;

/** Returns the row-major strides of a shape, in elements. */
export function rowMajorStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a]!;
  }
  return strides;
}

/**
 * Returns the affine index map of `expr` over an operand of shape `inShape`: the operand step per
 * output axis (0 for a broadcast axis, negative for a flipped one) and the operand index of
 * output index 0.
 */
export function movementMultipliers(expr: AffineMovement, inShape: Shape): { multiplier: number[]; base: number } {
  const rank = expr.shape.length;
  const inStrides = rowMajorStrides(inShape);
  const multiplier = new Array<number>(rank).fill(0);
  let base = 0;
  for (let a = 0; a < rank; a++) {
    switch (expr.kind) {
      case 'permute':
        multiplier[a] = inStrides[expr.perm[a]!]!;
        break;
      case 'broadcast':
        multiplier[a] = inShape[a] === 1 ? 0 : inStrides[a]!;
        break;
      case 'slice':
        multiplier[a] = inStrides[a]! * expr.step[a]!;
        base += expr.start[a]! * inStrides[a]!;
        break;
      case 'flip':
        if (expr.axes.includes(a)) {
          multiplier[a] = -inStrides[a]!;
          base += (inShape[a]! - 1) * inStrides[a]!;
        } else {
          multiplier[a] = inStrides[a]!;
        }
        break;
      default:
        assertNever(expr);
    }
  }
  return { multiplier, base };
}

/** One coordinate as a function of the outer shape's coordinates: offset + scale * coord[axis], or offset alone when axis is -1. */
export interface AxisTerm {
  axis: number;
  scale: number;
  offset: number;
}

/** A chain of movements composed into one map from the outer expression's coordinates to its innermost operand. */
export interface ComposedMovement {
  /** The first expression below the chain that is not a composable movement. */
  leaf: number;
  /** The leaf's flat index: base + the sum over outer axes a of coord[a] * multiplier[a]. */
  multiplier: number[];
  base: number;
  /** The element is padding (zero) unless 0 <= term < size for every check. Only checks that some coordinate fails are listed. */
  checks: RangeCheck[];
  /** True when a check fails for every coordinate, so every element is padding. */
  padding: boolean;
  /** The number of movements composed. */
  length: number;
}

/** A range check 0 <= term < size, with the sides that some coordinate of the outer shape fails. */
export interface RangeCheck extends AxisTerm {
  size: number;
  /** Some coordinate gives a term below 0. */
  low: boolean;
  /** Some coordinate gives a term of size or more. */
  high: boolean;
}

/** Returns whether `expr` maps each of its coordinates to one operand coordinate: every movement but reshape and interior padding. */
function composable(expr: KernelExpr): expr is AffineMovement | Extract<KernelExpr, { kind: 'pad' }> {
  switch (expr.kind) {
    case 'permute':
    case 'broadcast':
    case 'slice':
    case 'flip':
      return true;
    case 'pad':
      return expr.interior.every((p) => p === 0);
    default:
      return false;
  }
}

/**
 * Composes the chain of movements that starts at expression `id` (permute, broadcast, slice, flip
 * and pad without interior padding) into one affine map with range checks. Generated code then
 * splits the flat index into coordinates once instead of once per movement. Each of these
 * movements maps every coordinate to one operand coordinate by a shift, a sign or a scale, so
 * their composition keeps that form. Returns undefined when `id` is not such a movement.
 */
export function composeMovements(exprs: readonly KernelExpr[], id: number): ComposedMovement | undefined {
  const top = exprs[id]!;
  if (!composable(top)) return undefined;
  let terms: AxisTerm[] = top.shape.map((_, a) => ({ axis: a, scale: 1, offset: 0 }));
  const checks: (AxisTerm & { size: number })[] = [];
  let current = id;
  let length = 0;

  for (let expr = exprs[current]!; composable(expr); expr = exprs[current]!) {
    const inShape = exprs[expr.x]!.shape;
    switch (expr.kind) {
      case 'permute': {
        const next = new Array<AxisTerm>(inShape.length);
        expr.perm.forEach((from, a) => (next[from] = terms[a]!));
        terms = next;
        break;
      }
      case 'broadcast':
        terms = terms.map((t, a) => (inShape[a] === 1 ? { axis: -1, scale: 0, offset: 0 } : t));
        break;
      case 'slice':
        terms = terms.map((t, a) => ({ axis: t.axis, scale: t.scale * expr.step[a]!, offset: expr.start[a]! + t.offset * expr.step[a]! }));
        break;
      case 'flip':
        terms = terms.map((t, a) => (expr.axes.includes(a) ? { axis: t.axis, scale: -t.scale, offset: inShape[a]! - 1 - t.offset } : t));
        break;
      case 'pad':
        terms = terms.map((t, a) => {
          if (expr.low[a] === 0 && expr.high[a] === 0) return t;
          const shifted = { axis: t.axis, scale: t.scale, offset: t.offset - expr.low[a]! };
          checks.push({ ...shifted, size: inShape[a]! });
          return shifted;
        });
        break;
      default:
        assertNever(expr);
    }
    current = expr.x;
    length++;
  }

  const leafStrides = rowMajorStrides(exprs[current]!.shape);
  const multiplier = new Array<number>(top.shape.length).fill(0);
  let base = 0;
  terms.forEach((t, a) => {
    base += t.offset * leafStrides[a]!;
    if (t.axis >= 0) multiplier[t.axis]! += t.scale * leafStrides[a]!;
  });

  // The term is monotonic in its coordinate, so its extremes are at the ends of the axis. A side
  // that no coordinate fails needs no test, and a check that every coordinate fails makes padding.
  const needed: RangeCheck[] = [];
  let padding = false;
  for (const check of checks) {
    const last = check.axis < 0 ? check.offset : check.offset + check.scale * (top.shape[check.axis]! - 1);
    const low = Math.min(check.offset, last);
    const high = Math.max(check.offset, last);
    if (high < 0 || low >= check.size) padding = true;
    else if (low < 0 || high >= check.size) needed.push({ ...check, low: low < 0, high: high >= check.size });
  }
  return { leaf: current, multiplier, base, checks: needed, padding, length };
}

/** A comparison of one coordinate with a constant. */
export interface CoordinateBound {
  op: '>=' | '<' | '<=' | '>';
  value: number;
}

/**
 * Returns the sides of `check` that can fail as comparisons of its coordinate alone, when its scale
 * is 1 or -1, so generated code needs no multiply. Returns undefined for any other scale.
 */
export function coordinateBounds(check: RangeCheck): CoordinateBound[] | undefined {
  const bounds: CoordinateBound[] = [];
  if (check.scale === 1) {
    if (check.low) bounds.push({ op: '>=', value: -check.offset });
    if (check.high) bounds.push({ op: '<', value: check.size - check.offset });
  } else if (check.scale === -1) {
    if (check.low) bounds.push({ op: '<=', value: check.offset });
    if (check.high) bounds.push({ op: '>', value: check.offset - check.size });
  } else {
    return undefined;
  }
  return bounds;
}
