// Contraction loops: `fn cN(i: u32) -> f32`, one output element of a matmul, a conv2d or one of its
// transposes, summed in float32. Operands are read through their expression functions, so
// movement prologues (padding, upsampling) cost index arithmetic per tap and no buffer.

import { assertNever } from '../../src/ir/graph.ts';
import type { Kernel, KernelExpr } from '../../src/kernel/kernel.ts';

type ContractionExpr = Extract<KernelExpr, { kind: 'matmul' | 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight' }>;

export function emitContraction(kernel: Kernel, expr: ContractionExpr, index: number): string {
  const shapeOf = (id: number): readonly number[] => kernel.exprs[id]!.shape;
  switch (expr.kind) {
    case 'matmul':
      return emitMatmul(index, expr.a, expr.b, shapeOf(expr.a), shapeOf(expr.b));
    case 'conv2d':
      return emitConv2d(index, expr, shapeOf(expr.x), shapeOf(expr.w));
    case 'conv2dBackInput':
      return emitConv2dBackInput(index, expr, shapeOf(expr.dy), shapeOf(expr.w));
    case 'conv2dBackWeight':
      return emitConv2dBackWeight(index, expr, shapeOf(expr.x), shapeOf(expr.dy));
    default:
      return assertNever(expr);
  }
}

function emitMatmul(index: number, a: number, b: number, sa: readonly number[], sb: readonly number[]): string {
  const m = sa[sa.length - 2]!;
  const k = sa[sa.length - 1]!;
  const n = sb[sb.length - 1]!;
  return [
    `fn c${index}(i: u32) -> f32 {`,
    `  let col = i % ${n}u;`,
    `  let row = (i / ${n}u) % ${m}u;`,
    `  let batch = i / ${m * n}u;`,
    `  let a_base = batch * ${m * k}u + row * ${k}u;`,
    `  let b_base = batch * ${k * n}u + col;`,
    '  var acc = 0.0;',
    `  for (var p = 0u; p < ${k}u; p++) {`,
    `    acc += expr${a}(a_base + p) * expr${b}(b_base + p * ${n}u);`,
    '  }',
    '  return acc;',
    '}',
  ].join('\n');
}

type Conv = Extract<KernelExpr, { kind: 'conv2d' }>;
type ConvBackInput = Extract<KernelExpr, { kind: 'conv2dBackInput' }>;
type ConvBackWeight = Extract<KernelExpr, { kind: 'conv2dBackWeight' }>;

/** y[n, o, oy, ox] = sum over c, ky, kx of x[n, g * cpg + c, oy * s - top + ky, ox * s - left + kx] * w[o, c, ky, kx]. */
function emitConv2d(index: number, expr: Conv, xs: readonly number[], ws: readonly number[]): string {
  const [, c, h, wd] = xs as [number, number, number, number];
  const [co, cpg, kh, kw] = ws as [number, number, number, number];
  const [, , oh, ow] = expr.shape as [number, number, number, number];
  const copg = co / expr.attrs.groups;
  const { stride } = expr.attrs;
  const [top, , left] = expr.attrs.padding;
  return [
    `fn c${index}(i: u32) -> f32 {`,
    `  let ox = i32(i % ${ow}u);`,
    `  let oy = i32((i / ${ow}u) % ${oh}u);`,
    `  let o = (i / ${ow * oh}u) % ${co}u;`,
    `  let n = i / ${ow * oh * co}u;`,
    `  let first_channel = n * ${c}u + (o / ${copg}u) * ${cpg}u;`,
    '  var acc = 0.0;',
    `  for (var ci = 0u; ci < ${cpg}u; ci++) {`,
    `    let x_plane = (first_channel + ci) * ${h}u;`,
    `    let w_plane = (o * ${cpg}u + ci) * ${kh}u;`,
    `    for (var ky = 0; ky < ${kh}; ky++) {`,
    `      let iy = oy * ${stride} - ${top} + ky;`,
    `      if (iy < 0 || iy >= ${h}) { continue; }`,
    `      for (var kx = 0; kx < ${kw}; kx++) {`,
    `        let ix = ox * ${stride} - ${left} + kx;`,
    `        if (ix < 0 || ix >= ${wd}) { continue; }`,
    `        let xv = expr${expr.x}((x_plane + u32(iy)) * ${wd}u + u32(ix));`,
    `        acc += xv * expr${expr.w}((w_plane + u32(ky)) * ${kw}u + u32(kx));`,
    '      }',
    '    }',
    '  }',
    '  return acc;',
    '}',
  ].join('\n');
}

/**
 * dx[n, ci, iy, ix] = sum over the channels o of ci's group and the taps (ky, kx) that reach
 * (iy, ix) from an output pixel (oy, ox) = ((iy + top - ky) / s, (ix + left - kx) / s), of
 * dy[n, o, oy, ox] * w[o, ci - g * cpg, ky, kx].
 */
function emitConv2dBackInput(index: number, expr: ConvBackInput, dys: readonly number[], ws: readonly number[]): string {
  const [, co, oh, ow] = dys as [number, number, number, number];
  const [, cpg, kh, kw] = ws as [number, number, number, number];
  const [, c, h, wd] = expr.shape as [number, number, number, number];
  const copg = co / expr.attrs.groups;
  const { stride } = expr.attrs;
  const [top, , left] = expr.attrs.padding;
  return [
    `fn c${index}(i: u32) -> f32 {`,
    `  let ix = i32(i % ${wd}u);`,
    `  let iy = i32((i / ${wd}u) % ${h}u);`,
    `  let channel = (i / ${wd * h}u) % ${c}u;`,
    `  let n = i / ${wd * h * c}u;`,
    `  let group = channel / ${cpg}u;`,
    `  let c_in = channel % ${cpg}u;`,
    '  var acc = 0.0;',
    `  for (var o = group * ${copg}u; o < (group + 1u) * ${copg}u; o++) {`,
    `    let dy_plane = (n * ${co}u + o) * ${oh}u;`,
    `    let w_plane = (o * ${cpg}u + c_in) * ${kh}u;`,
    `    for (var ky = 0; ky < ${kh}; ky++) {`,
    `      let ty = iy + ${top} - ky;`,
    `      if (ty < 0 || ty % ${stride} != 0 || ty / ${stride} >= ${oh}) { continue; }`,
    `      for (var kx = 0; kx < ${kw}; kx++) {`,
    `        let tx = ix + ${left} - kx;`,
    `        if (tx < 0 || tx % ${stride} != 0 || tx / ${stride} >= ${ow}) { continue; }`,
    `        let dyv = expr${expr.dy}((dy_plane + u32(ty / ${stride})) * ${ow}u + u32(tx / ${stride}));`,
    `        acc += dyv * expr${expr.w}((w_plane + u32(ky)) * ${kw}u + u32(kx));`,
    '      }',
    '    }',
    '  }',
    '  return acc;',
    '}',
  ].join('\n');
}

/** dw[o, c, ky, kx] = sum over n, oy, ox of dy[n, o, oy, ox] * x[n, g * cpg + c, oy * s - top + ky, ox * s - left + kx]. */
function emitConv2dBackWeight(index: number, expr: ConvBackWeight, xs: readonly number[], dys: readonly number[]): string {
  const [batch, c, h, wd] = xs as [number, number, number, number];
  const [, co, oh, ow] = dys as [number, number, number, number];
  const [, cpg, kh, kw] = expr.shape as [number, number, number, number];
  const copg = co / expr.attrs.groups;
  const { stride } = expr.attrs;
  const [top, , left] = expr.attrs.padding;
  return [
    `fn c${index}(i: u32) -> f32 {`,
    `  let kx = i32(i % ${kw}u);`,
    `  let ky = i32((i / ${kw}u) % ${kh}u);`,
    `  let ci = (i / ${kw * kh}u) % ${cpg}u;`,
    `  let o = i / ${kw * kh * cpg}u;`,
    `  let channel = (o / ${copg}u) * ${cpg}u + ci;`,
    '  var acc = 0.0;',
    `  for (var n = 0u; n < ${batch}u; n++) {`,
    `    for (var oy = 0; oy < ${oh}; oy++) {`,
    `      let iy = oy * ${stride} - ${top} + ky;`,
    `      if (iy < 0 || iy >= ${h}) { continue; }`,
    `      let x_row = ((n * ${c}u + channel) * ${h}u + u32(iy)) * ${wd}u;`,
    `      let dy_row = ((n * ${co}u + o) * ${oh}u + u32(oy)) * ${ow}u;`,
    `      for (var ox = 0; ox < ${ow}; ox++) {`,
    `        let ix = ox * ${stride} - ${left} + kx;`,
    `        if (ix < 0 || ix >= ${wd}) { continue; }`,
    `        acc += expr${expr.dy}(dy_row + u32(ox)) * expr${expr.x}(x_row + u32(ix));`,
    '      }',
    '    }',
    '  }',
    '  return acc;',
    '}',
  ].join('\n');
}
