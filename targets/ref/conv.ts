// Convolution kernels of the reference executor: conv2d and its transposes in the input and in the
// weight, all accumulated in float64. With 4 or more output channels per group they run as blocked
// matrix products over im2col buffers; otherwise (depthwise convolutions) as direct loops.
//
// Layouts: x [N, C, H, W], w [CO, C / groups, KH, KW], y [N, CO, OH, OW], row-major. Padding is
// [top, bottom, left, right]. For one image n and group g, with P = OH * OW output pixels and
// K = (C / groups) * KH * KW taps, im2col builds col [K, P] with
// col[(c * KH + kh) * KW + kw, oh * OW + ow] = x[n, g * C/groups + c, oh * s - top + kh, ow * s - left + kw]
// (zero outside the image), and then
//   conv2d:           y[n, g-block]   = w[g-block] @ col            ([CO/g, K] x [K, P])
//   conv2dBackInput:  col2im(w[g-block]^T @ dy[n, g-block])         ([K, CO/g] x [CO/g, P])
//   conv2dBackWeight: dw[g-block]    += dy[n, g-block] @ col^T      ([CO/g, P] x [P, K])
// With stride 1, conv2dBackInput instead runs as a forward convolution of dy with the flipped,
// channel-swapped kernel, which avoids the col2im scatter (see backInputAsForward).

import type { ConvAttrs, Shape } from '../../src/ir/graph.ts';
import { gemmNT, transposeInto } from './gemm.ts';

/** The default maximum im2col buffer size, in elements. Output rows are processed in tiles that fit in it. */
export const COL_LIMIT = 1 << 22;

interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  co: number;
  cPerGroup: number;
  coPerGroup: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  groups: number;
  stride: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** Taps per output channel: cPerGroup * kh * kw. */
  taps: number;
  /** Output rows per im2col tile. */
  tileRows: number;
}

function geometry(xShape: Shape, wShape: Shape, yShape: Shape, attrs: ConvAttrs, colLimit: number): ConvGeometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [co, cPerGroup, kh, kw] = wShape as [number, number, number, number];
  const [, , oh, ow] = yShape as [number, number, number, number];
  const taps = cPerGroup * kh * kw;
  const tileRows = Math.max(1, Math.min(oh, Math.floor(colLimit / Math.max(1, taps * ow))));
  return {
    n, c, h, w, co, cPerGroup, coPerGroup: co / attrs.groups, kh, kw, oh, ow,
    groups: attrs.groups, stride: attrs.stride, top: attrs.padding[0], bottom: attrs.padding[1], left: attrs.padding[2], right: attrs.padding[3], taps, tileRows,
  };
}

/** Returns the first and one-past-last output column whose input column ow * stride - left + kx lies inside [0, w). */
function validColumns(g: ConvGeometry, kx: number): [number, number] {
  const offset = kx - g.left;
  const first = offset >= 0 ? 0 : Math.ceil(-offset / g.stride);
  const last = Math.min(g.ow, Math.floor((g.w - 1 - offset) / g.stride) + 1);
  return [Math.min(first, g.ow), Math.max(last, Math.min(first, g.ow))];
}

/**
 * Fills col [taps, rows * OW] for image n, group `group` and output rows [row0, row0 + rows).
 * Precomputed column ranges keep the bounds test out of the inner loop.
 */
function im2col(x: Float32Array, g: ConvGeometry, n: number, group: number, row0: number, rows: number, col: Float32Array): void {
  const p = rows * g.ow;
  const plane = g.h * g.w;
  for (let c = 0; c < g.cPerGroup; c++) {
    const xPlane = (n * g.c + group * g.cPerGroup + c) * plane;
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const rowBase = ((c * g.kh + ky) * g.kw + kx) * p;
        const [first, last] = validColumns(g, kx);
        for (let r = 0; r < rows; r++) {
          const iy = (row0 + r) * g.stride - g.top + ky;
          const dst = rowBase + r * g.ow;
          if (iy < 0 || iy >= g.h) {
            col.fill(0, dst, dst + g.ow);
            continue;
          }
          col.fill(0, dst, dst + first);
          const src = xPlane + iy * g.w + kx - g.left;
          if (g.stride === 1) {
            for (let ox = first; ox < last; ox++) col[dst + ox] = x[src + ox]!;
          } else {
            for (let ox = first; ox < last; ox++) col[dst + ox] = x[src + ox * g.stride]!;
          }
          col.fill(0, dst + last, dst + g.ow);
        }
      }
    }
  }
}

/** Fills colT [rows * OW, taps], the transpose of im2col's buffer, for gemmNT's second operand. */
function im2colTransposed(x: Float32Array, g: ConvGeometry, n: number, group: number, row0: number, rows: number, colT: Float32Array): void {
  const plane = g.h * g.w;
  const taps = g.taps;
  for (let c = 0; c < g.cPerGroup; c++) {
    const xPlane = (n * g.c + group * g.cPerGroup + c) * plane;
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const t = (c * g.kh + ky) * g.kw + kx;
        const [first, last] = validColumns(g, kx);
        for (let r = 0; r < rows; r++) {
          const iy = (row0 + r) * g.stride - g.top + ky;
          const dst = r * g.ow * taps + t;
          if (iy < 0 || iy >= g.h) {
            for (let ox = 0; ox < g.ow; ox++) colT[dst + ox * taps] = 0;
            continue;
          }
          for (let ox = 0; ox < first; ox++) colT[dst + ox * taps] = 0;
          const src = xPlane + iy * g.w + kx - g.left;
          for (let ox = first; ox < last; ox++) colT[dst + ox * taps] = x[src + ox * g.stride]!;
          for (let ox = last; ox < g.ow; ox++) colT[dst + ox * taps] = 0;
        }
      }
    }
  }
}

/** Adds dcol [taps, rows * OW] into dx64, the float64 gradient of one image's group planes [C/groups, H, W]. */
function col2imAdd(dcol: Float64Array, g: ConvGeometry, row0: number, rows: number, dx64: Float64Array): void {
  const p = rows * g.ow;
  const plane = g.h * g.w;
  for (let c = 0; c < g.cPerGroup; c++) {
    for (let ky = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++) {
        const rowBase = ((c * g.kh + ky) * g.kw + kx) * p;
        const [first, last] = validColumns(g, kx);
        for (let r = 0; r < rows; r++) {
          const iy = (row0 + r) * g.stride - g.top + ky;
          if (iy < 0 || iy >= g.h) continue;
          const src = rowBase + r * g.ow;
          const dst = c * plane + iy * g.w + kx - g.left;
          for (let ox = first; ox < last; ox++) dx64[dst + ox * g.stride] += dcol[src + ox]!;
        }
      }
    }
  }
}

// The direct paths: no im2col, each tap adds a weight times a row of input pixels into a float64
// row of output pixels, so the inner loop still runs over contiguous output memory.

function conv2dDirect(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void {
  const outPlane = g.oh * g.ow;
  const plane = g.h * g.w;
  const acc = new Float64Array(outPlane);
  const columns = Array.from({ length: g.kw }, (_, kx) => validColumns(g, kx));
  for (let n = 0; n < g.n; n++) {
    for (let channel = 0; channel < g.co; channel++) {
      const group = Math.floor(channel / g.coPerGroup);
      acc.fill(0);
      for (let c = 0; c < g.cPerGroup; c++) {
        const xPlane = (n * g.c + group * g.cPerGroup + c) * plane;
        for (let ky = 0; ky < g.kh; ky++) {
          for (let kx = 0; kx < g.kw; kx++) {
            const wv = w[((channel * g.cPerGroup + c) * g.kh + ky) * g.kw + kx]!;
            const [first, last] = columns[kx]!;
            for (let r = 0; r < g.oh; r++) {
              const iy = r * g.stride - g.top + ky;
              if (iy < 0 || iy >= g.h) continue;
              const src = xPlane + iy * g.w + kx - g.left;
              const dst = r * g.ow;
              for (let ox = first; ox < last; ox++) acc[dst + ox] += wv * x[src + ox * g.stride]!;
            }
          }
        }
      }
      const dst = (n * g.co + channel) * outPlane;
      for (let q = 0; q < outPlane; q++) y[dst + q] = acc[q]!;
    }
  }
}

function conv2dBackInputDirect(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
  const outPlane = g.oh * g.ow;
  const plane = g.h * g.w;
  const acc = new Float64Array(plane);
  const columns = Array.from({ length: g.kw }, (_, kx) => validColumns(g, kx));
  for (let n = 0; n < g.n; n++) {
    for (let channel = 0; channel < g.c; channel++) {
      const group = Math.floor(channel / g.cPerGroup);
      const c = channel - group * g.cPerGroup;
      acc.fill(0);
      for (let oc = 0; oc < g.coPerGroup; oc++) {
        const outChannel = group * g.coPerGroup + oc;
        const dyPlane = (n * g.co + outChannel) * outPlane;
        for (let ky = 0; ky < g.kh; ky++) {
          for (let kx = 0; kx < g.kw; kx++) {
            const wv = w[((outChannel * g.cPerGroup + c) * g.kh + ky) * g.kw + kx]!;
            const [first, last] = columns[kx]!;
            for (let r = 0; r < g.oh; r++) {
              const iy = r * g.stride - g.top + ky;
              if (iy < 0 || iy >= g.h) continue;
              const dst = iy * g.w + kx - g.left;
              const src = dyPlane + r * g.ow;
              for (let ox = first; ox < last; ox++) acc[dst + ox * g.stride] += wv * dy[src + ox]!;
            }
          }
        }
      }
      const dst = (n * g.c + channel) * plane;
      for (let i = 0; i < plane; i++) dx[dst + i] = acc[i]!;
    }
  }
}

function conv2dBackWeightDirect(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw64: Float64Array): void {
  const outPlane = g.oh * g.ow;
  const plane = g.h * g.w;
  const columns = Array.from({ length: g.kw }, (_, kx) => validColumns(g, kx));
  for (let channel = 0; channel < g.co; channel++) {
    const group = Math.floor(channel / g.coPerGroup);
    for (let c = 0; c < g.cPerGroup; c++) {
      for (let ky = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++) {
          const [first, last] = columns[kx]!;
          let sum = 0;
          for (let n = 0; n < g.n; n++) {
            const xPlane = (n * g.c + group * g.cPerGroup + c) * plane;
            const dyPlane = (n * g.co + channel) * outPlane;
            for (let r = 0; r < g.oh; r++) {
              const iy = r * g.stride - g.top + ky;
              if (iy < 0 || iy >= g.h) continue;
              const src = xPlane + iy * g.w + kx - g.left;
              const dyRow = dyPlane + r * g.ow;
              for (let ox = first; ox < last; ox++) sum += dy[dyRow + ox]! * x[src + ox * g.stride]!;
            }
          }
          dw64[((channel * g.cPerGroup + c) * g.kh + ky) * g.kw + kx] += sum;
        }
      }
    }
  }
}

// The gemm paths: the products above as register-blocked matrix products.

function conv2dGemm(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void {
  const outPlane = g.oh * g.ow;
  const colT = new Float32Array(g.taps * g.tileRows * g.ow);
  const acc = new Float64Array(g.coPerGroup * g.tileRows * g.ow);
  for (let n = 0; n < g.n; n++) {
    for (let group = 0; group < g.groups; group++) {
      for (let row0 = 0; row0 < g.oh; row0 += g.tileRows) {
        const rows = Math.min(g.tileRows, g.oh - row0);
        const p = rows * g.ow;
        im2colTransposed(x, g, n, group, row0, rows, colT);
        acc.fill(0, 0, g.coPerGroup * p);
        // acc [CO/g, P] = w-block [CO/g, K] (colT [P, K])^T.
        gemmNT(g.coPerGroup, p, g.taps, w, group * g.coPerGroup * g.taps, g.taps, colT, 0, g.taps, acc, 0, p);
        for (let oc = 0; oc < g.coPerGroup; oc++) {
          const dst = (n * g.co + group * g.coPerGroup + oc) * outPlane + row0 * g.ow;
          const src = oc * p;
          for (let q = 0; q < p; q++) y[dst + q] = acc[src + q]!;
        }
      }
    }
  }
}

function conv2dBackInputGemm(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
  const outPlane = g.oh * g.ow;
  const groupSize = g.cPerGroup * g.h * g.w;
  // wT holds each group's weight block transposed to [K, CO/g], so the contraction over output
  // channels runs along contiguous memory.
  const wT = new Float32Array(w.length);
  const blockSize = g.coPerGroup * g.taps;
  for (let group = 0; group < g.groups; group++) {
    transposeInto(w, group * blockSize, g.coPerGroup, g.taps, g.taps, wT.subarray(group * blockSize, (group + 1) * blockSize));
  }
  const dyT = new Float32Array(g.tileRows * g.ow * g.coPerGroup);
  const dcol = new Float64Array(g.taps * g.tileRows * g.ow);
  const dx64 = new Float64Array(groupSize);
  for (let n = 0; n < g.n; n++) {
    for (let group = 0; group < g.groups; group++) {
      dx64.fill(0);
      for (let row0 = 0; row0 < g.oh; row0 += g.tileRows) {
        const rows = Math.min(g.tileRows, g.oh - row0);
        const p = rows * g.ow;
        const dyBlock = (n * g.co + group * g.coPerGroup) * outPlane + row0 * g.ow;
        transposeInto(dy, dyBlock, g.coPerGroup, p, outPlane, dyT);
        dcol.fill(0, 0, g.taps * p);
        // dcol [K, P] = wT-block [K, CO/g] (dyT [P, CO/g])^T.
        gemmNT(g.taps, p, g.coPerGroup, wT, group * blockSize, g.coPerGroup, dyT, 0, g.coPerGroup, dcol, 0, p);
        col2imAdd(dcol, g, row0, rows, dx64);
      }
      const dst = (n * g.c + group * g.cPerGroup) * g.h * g.w;
      for (let i = 0; i < groupSize; i++) dx[dst + i] = dx64[i]!;
    }
  }
}

function conv2dBackWeightGemm(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw64: Float64Array): void {
  const outPlane = g.oh * g.ow;
  const col = new Float32Array(g.taps * g.tileRows * g.ow);
  for (let n = 0; n < g.n; n++) {
    for (let group = 0; group < g.groups; group++) {
      for (let row0 = 0; row0 < g.oh; row0 += g.tileRows) {
        const rows = Math.min(g.tileRows, g.oh - row0);
        const p = rows * g.ow;
        im2col(x, g, n, group, row0, rows, col);
        const dyBlock = (n * g.co + group * g.coPerGroup) * outPlane + row0 * g.ow;
        // dw-block [CO/g, K] += dy-block [CO/g, P] (col [K, P])^T.
        gemmNT(g.coPerGroup, g.taps, p, dy, dyBlock, outPlane, col, 0, p, dw64, group * g.coPerGroup * g.taps, g.taps);
      }
    }
  }
}

/**
 * Returns the weight of the stride-1 convolution that equals conv2d's transpose in x: per group,
 * input and output channels swap and both kernel axes reverse, giving [C, CO / groups, KH, KW].
 */
function transposedKernel(g: ConvGeometry, w: Float32Array): Float32Array {
  const flipped = new Float32Array(w.length);
  const kernelSize = g.kh * g.kw;
  for (let group = 0; group < g.groups; group++) {
    for (let oc = 0; oc < g.coPerGroup; oc++) {
      for (let c = 0; c < g.cPerGroup; c++) {
        const src = ((group * g.coPerGroup + oc) * g.cPerGroup + c) * kernelSize;
        const dst = ((group * g.cPerGroup + c) * g.coPerGroup + oc) * kernelSize;
        for (let k = 0; k < kernelSize; k++) flipped[dst + k] = w[src + kernelSize - 1 - k]!;
      }
    }
  }
  return flipped;
}

/**
 * Returns the geometry of conv2d's transpose in x written as a forward convolution of dy, or
 * undefined where that form does not apply. With stride 1 and padding p <= K - 1 on each side,
 * dx = conv2d(dy, transposedKernel(w)) with padding K - 1 - p, a plain gemm with K = CO/g * KH * KW
 * taps and no col2im scatter.
 */
function backInputAsForward(g: ConvGeometry, colLimit: number): ConvGeometry | undefined {
  if (g.stride !== 1 || g.cPerGroup < 4) return undefined;
  const padding = [g.kh - 1 - g.top, g.kh - 1 - g.bottom, g.kw - 1 - g.left, g.kw - 1 - g.right] as const;
  if (padding.some((p) => p < 0)) return undefined;
  return geometry(
    [g.n, g.co, g.oh, g.ow],
    [g.c, g.coPerGroup, g.kh, g.kw],
    [g.n, g.c, g.h, g.w],
    { stride: 1, padding, groups: g.groups },
    colLimit,
  );
}

/**
 * Returns whether the blocked matrix product pays off. With fewer than 4 output channels per group
 * (depthwise convolutions such as the blur) its 4-row blocks never fill, and the direct loops win.
 */
function useGemm(g: ConvGeometry): boolean {
  return g.coPerGroup >= 4;
}

/** y = conv2d(x, w): x [N, C, H, W], w [CO, C / groups, KH, KW], y [N, CO, OH, OW]. */
export function conv2dKernel(
  x: Float32Array, xShape: Shape, w: Float32Array, wShape: Shape, attrs: ConvAttrs, y: Float32Array, yShape: Shape,
  colLimit = COL_LIMIT,
): void {
  const g = geometry(xShape, wShape, yShape, attrs, colLimit);
  if (useGemm(g)) conv2dGemm(g, x, w, y);
  else conv2dDirect(g, x, w, y);
}

/** dx = the transpose of conv2d in x applied to dy; dx has the forward input's shape. */
export function conv2dBackInputKernel(
  dy: Float32Array, dyShape: Shape, w: Float32Array, wShape: Shape, attrs: ConvAttrs, dx: Float32Array, xShape: Shape,
  colLimit = COL_LIMIT,
): void {
  const g = geometry(xShape, wShape, dyShape, attrs, colLimit);
  const forward = backInputAsForward(g, colLimit);
  if (forward !== undefined) conv2dGemm(forward, dy, transposedKernel(g, w), dx);
  else if (useGemm(g)) conv2dBackInputGemm(g, dy, w, dx);
  else conv2dBackInputDirect(g, dy, w, dx);
}

/** dw = the transpose of conv2d in w applied to dy, summed over the batch; dw has the weight's shape. */
export function conv2dBackWeightKernel(
  x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, attrs: ConvAttrs, dw: Float32Array, wShape: Shape,
  colLimit = COL_LIMIT,
): void {
  const dw64 = new Float64Array(dw.length);
  conv2dBackWeightAccumulate(x, xShape, dy, dyShape, attrs, dw64, wShape, colLimit);
  for (let i = 0; i < dw.length; i++) dw[i] = dw64[i]!;
}

/** Adds conv2dBackWeight(x, dy) to the float64 buffer dw64, so batch chunks can be summed before rounding. */
export function conv2dBackWeightAccumulate(
  x: Float32Array, xShape: Shape, dy: Float32Array, dyShape: Shape, attrs: ConvAttrs, dw64: Float64Array, wShape: Shape,
  colLimit = COL_LIMIT,
): void {
  const g = geometry(xShape, wShape, dyShape, attrs, colLimit);
  if (useGemm(g)) conv2dBackWeightGemm(g, x, dy, dw64);
  else conv2dBackWeightDirect(g, x, dy, dw64);
}
