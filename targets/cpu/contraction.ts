// Convolutions and matmul on the cpu target, as im2col (or a packing copy) into panels followed by
// the SIMD gemm kernel. Every function here takes byte addresses into the runtime's memory and a
// scratch region, and reports how much scratch it needs through a matching *Scratch function, so the
// program can reserve the maximum once at compile time.
//
// Layouts: x [N, C, H, W], w [CO, C / groups, KH, KW], y [N, CO, OH, OW], row-major. For one image n
// and group g, K = (C / groups) * KH * KW taps and P = OH * OW output pixels:
//   conv2d:           y[n, g-block]  = w[g-block] @ col          ([CO/g, K] x [K, P])
//   conv2dBackInput:  col2im(w[g-block]^T @ dy[n, g-block])      ([K, CO/g] x [CO/g, P])
//   conv2dBackWeight: dw[g-block]    = sum over n of dy[n, g-block] @ col^T   ([CO/g, P] x [P, K])

import type { ConvAttrs, Shape } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/graph.ts';
import { PANEL } from './wasm-source.ts';
import type { CpuRuntime } from './runtime.ts';

/** The maximum im2col scratch per call, in floats; batches are processed in image chunks that fit. */
export const SCRATCH_FLOATS = 1 << 24;

/** Products with fewer multiply-adds than this run on the calling thread, because waking workers costs more. */
const MIN_PARALLEL_MACS = 1 << 19;

const padTo = (n: number, multiple: number): number => Math.ceil(n / multiple) * multiple;

export interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  co: number;
  cpg: number;
  copg: number;
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
  taps: number;
  pixels: number;
}

export function convGeometry(xShape: Shape, wShape: Shape, yShape: Shape, attrs: ConvAttrs): ConvGeometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [co, cpg, kh, kw] = wShape as [number, number, number, number];
  const [, , oh, ow] = yShape as [number, number, number, number];
  const [top, bottom, left, right] = attrs.padding;
  return {
    n, c, h, w, co, cpg, copg: co / attrs.groups, kh, kw, oh, ow, groups: attrs.groups, stride: attrs.stride,
    top, bottom, left, right, taps: cpg * kh * kw, pixels: oh * ow,
  };
}

/** Returns the im2col arguments that describe the convolution's input, up to the image count. */
function im2colGeometry(g: ConvGeometry): number[] {
  return [g.c, g.h, g.w, g.kh, g.kw, g.stride, g.top, g.left, g.oh, g.ow, g.cpg, g.groups];
}

/** Images per chunk when each image needs `perImage` scratch floats; at least one. */
function imagesPerChunk(n: number, perImage: number): number {
  return Math.max(1, Math.min(n, Math.floor(SCRATCH_FLOATS / Math.max(1, perImage))));
}

// conv2d

/** Floats of one (image, group) block of col [K, P] packed in panels over pixels. */
const forwardBlock = (g: ConvGeometry): number => padTo(g.pixels, PANEL) * g.taps;

/** Returns whether the convolution has one input and one output channel per group (a depthwise one, such as the blur). */
const isDepthwise = (g: ConvGeometry): boolean => g.cpg === 1 && g.copg === 1;

/** Floats of one zero-padded input plane of the depthwise kernel. */
const paddedPlane = (g: ConvGeometry): number => ((g.oh - 1) * g.stride + g.kh) * ((g.ow - 1) * g.stride + g.kw);

export function conv2dScratch(g: ConvGeometry): number {
  if (isDepthwise(g)) return g.n * g.c * paddedPlane(g) * 4;
  return imagesPerChunk(g.n, g.groups * forwardBlock(g)) * g.groups * forwardBlock(g) * 4;
}

/** y = conv2d(x, w) with the addresses of x, w and y and a scratch region of conv2dScratch bytes. */
export function conv2d(rt: CpuRuntime, g: ConvGeometry, x: number, w: number, y: number, scratch: number): void {
  if (isDepthwise(g)) {
    // im2col and a one-row gemm would waste most of the SIMD lanes, so a direct kernel runs instead.
    const args = [x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.top, g.left, g.oh, g.ow, g.n, w, y, scratch];
    rt.call('depthwise', args, g.n * g.c * g.pixels * g.taps >= MIN_PARALLEL_MACS / 4);
    return;
  }
  const block = forwardBlock(g);
  const chunk = imagesPerChunk(g.n, g.groups * block);
  const parallel = g.n * g.co * g.pixels * g.taps >= MIN_PARALLEL_MACS;
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const images = Math.min(chunk, g.n - n0);
    rt.call(
      'im2col',
      [x + n0 * g.c * g.h * g.w * 4, ...im2colGeometry(g), images, scratch, block * 4, 64, 8, 8 * g.taps, 1, padTo(g.pixels, PANEL)],
      parallel,
    );
    rt.call(
      'gemm',
      [
        g.copg, g.pixels, g.taps, w, g.taps * 4, scratch, y + n0 * g.co * g.pixels * 4, g.pixels * 4,
        images, 0, g.groups * block * 4, g.co * g.pixels * 4,
        g.groups, g.copg * g.taps * 4, block * 4, g.copg * g.pixels * 4,
        1, 0, 0,
      ],
      parallel,
    );
  }
}

// conv2dBackInput

/**
 * Returns the forward convolution that equals conv2d's transpose in x, or undefined where that form
 * does not apply. With stride 1 and padding p <= K - 1 on each side, dx = conv2d(dy, w') with padding
 * K - 1 - p, where w' [C, CO / groups, KH, KW] swaps input and output channels per group and reverses
 * both kernel axes.
 */
export function backInputAsForward(g: ConvGeometry): ConvGeometry | undefined {
  if (g.stride !== 1) return undefined;
  const padding = [g.kh - 1 - g.top, g.kh - 1 - g.bottom, g.kw - 1 - g.left, g.kw - 1 - g.right] as const;
  if (padding.some((p) => p < 0)) return undefined;
  return convGeometry([g.n, g.co, g.oh, g.ow], [g.c, g.copg, g.kh, g.kw], [g.n, g.c, g.h, g.w], { stride: 1, padding, groups: g.groups });
}

/** Writes w' of backInputAsForward into `out`, a float32 view of w's size. */
function transposedKernel(g: ConvGeometry, w: Float32Array, out: Float32Array): void {
  const kernelSize = g.kh * g.kw;
  for (let group = 0; group < g.groups; group++) {
    for (let oc = 0; oc < g.copg; oc++) {
      for (let c = 0; c < g.cpg; c++) {
        const src = ((group * g.copg + oc) * g.cpg + c) * kernelSize;
        const dst = ((group * g.cpg + c) * g.copg + oc) * kernelSize;
        for (let k = 0; k < kernelSize; k++) out[dst + k] = w[src + kernelSize - 1 - k]!;
      }
    }
  }
}

/** Floats of one (image, group) block of dy [CO/g, P] packed in panels over pixels. */
const dyBlock = (g: ConvGeometry): number => padTo(g.pixels, PANEL) * g.copg;
/** Floats of one (image, group) block of the gemm result dcol [K, P]. */
const dcolBlock = (g: ConvGeometry): number => g.taps * g.pixels;

export function conv2dBackInputScratch(g: ConvGeometry): number {
  const weightBytes = padTo(g.co * g.taps, 16) * 4;
  const forward = backInputAsForward(g);
  if (forward !== undefined) return weightBytes + conv2dScratch(forward);
  const perImage = g.groups * (dyBlock(g) + dcolBlock(g));
  return weightBytes + imagesPerChunk(g.n, perImage) * perImage * 4;
}

/** dx = the transpose of conv2d in x applied to dy, with a scratch region of conv2dBackInputScratch bytes. */
export function conv2dBackInput(rt: CpuRuntime, g: ConvGeometry, dy: number, w: number, dx: number, scratch: number): void {
  const weightCount = g.co * g.taps;
  const weights = scratch;
  const rest = scratch + padTo(weightCount, 16) * 4;
  const forward = backInputAsForward(g);
  if (forward !== undefined) {
    transposedKernel(g, rt.view(w, weightCount), rt.view(weights, weightCount));
    conv2d(rt, forward, dy, weights, dx, rest);
    return;
  }

  // wT holds each group's block of w transposed to [K, CO/g], the gemm's first operand.
  const wView = rt.view(w, weightCount);
  const wT = rt.view(weights, weightCount);
  for (let group = 0; group < g.groups; group++) {
    const base = group * g.copg * g.taps;
    for (let oc = 0; oc < g.copg; oc++) {
      for (let t = 0; t < g.taps; t++) wT[base + t * g.copg + oc] = wView[base + oc * g.taps + t]!;
    }
  }
  const perImage = g.groups * (dyBlock(g) + dcolBlock(g));
  const chunk = imagesPerChunk(g.n, perImage);
  const packed = rest;
  const dcol = rest + chunk * g.groups * dyBlock(g) * 4;
  const parallel = g.n * g.co * g.pixels * g.taps >= MIN_PARALLEL_MACS;
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const images = Math.min(chunk, g.n - n0);
    // Packing dy is im2col of dy with a 1x1 kernel: CO channels in groups of CO/g.
    const pack = [g.co, g.oh, g.ow, 1, 1, 1, 0, 0, g.oh, g.ow, g.copg, g.groups];
    rt.call('im2col', [dy + n0 * g.co * g.pixels * 4, ...pack, images, packed, dyBlock(g) * 4, 64, 8, 8 * g.copg, 1, padTo(g.pixels, PANEL)], parallel);
    rt.call(
      'gemm',
      [
        g.taps, g.pixels, g.copg, weights, g.copg * 4, packed, dcol, g.pixels * 4,
        images, 0, g.groups * dyBlock(g) * 4, g.groups * dcolBlock(g) * 4,
        g.groups, g.copg * g.taps * 4, dyBlock(g) * 4, dcolBlock(g) * 4,
        1, 0, 0,
      ],
      parallel,
    );
    rt.call('col2im', [dx + n0 * g.c * g.h * g.w * 4, ...im2colGeometry(g), images, dcol, dcolBlock(g) * 4, g.pixels * 4], parallel);
  }
}

// conv2dBackWeight

/** Floats of one (image, group) block of col^T [P, K] packed in panels over taps. */
const weightBlock = (g: ConvGeometry): number => padTo(g.taps, PANEL) * g.pixels;

function backWeightChunk(g: ConvGeometry): number {
  return imagesPerChunk(g.n, g.groups * weightBlock(g));
}

export function conv2dBackWeightScratch(g: ConvGeometry): number {
  const chunk = backWeightChunk(g);
  // With more than one chunk, later chunks sum into a partial buffer that is then added to dw.
  const partial = chunk < g.n ? padTo(g.co * g.taps, 16) : 0;
  return (chunk * g.groups * weightBlock(g) + partial) * 4;
}

/**
 * dw = the transpose of conv2d in w applied to dy, summed over the batch in a fixed order of image
 * chunks, with a scratch region of conv2dBackWeightScratch bytes.
 */
export function conv2dBackWeight(rt: CpuRuntime, g: ConvGeometry, x: number, dy: number, dw: number, scratch: number): void {
  const block = weightBlock(g);
  const chunk = backWeightChunk(g);
  const cols = scratch;
  const partial = scratch + chunk * g.groups * block * 4;
  const wCount = g.co * g.taps;
  const parallel = g.n * g.co * g.pixels * g.taps >= MIN_PARALLEL_MACS;
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const images = Math.min(chunk, g.n - n0);
    if (g.taps % PANEL !== 0) {
      // The gemm reads the last tap panel whole, so its lanes past K must hold zeros, not stale floats.
      const lastPanel = (padTo(g.taps, PANEL) - PANEL) * g.pixels;
      for (let b = 0; b < images * g.groups; b++) rt.view(cols + (b * block + lastPanel) * 4, PANEL * g.pixels).fill(0);
    }
    rt.call('im2col', [x + n0 * g.c * g.h * g.w * 4, ...im2colGeometry(g), images, cols, block * 4, 8 * g.pixels, 1, 64, 8, g.pixels], parallel);
    const target = n0 === 0 ? dw : partial;
    rt.call(
      'gemm',
      [
        g.copg, g.taps, g.pixels, dy + n0 * g.co * g.pixels * 4, g.pixels * 4, cols, target, g.taps * 4,
        1, 0, 0, 0,
        g.groups, g.copg * g.pixels * 4, block * 4, g.copg * g.taps * 4,
        images, g.co * g.pixels * 4, g.groups * block * 4,
      ],
      parallel,
    );
    if (n0 > 0) rt.call('binary_add', [dw, partial, dw, Math.ceil(wCount / 4)], false);
  }
}

// matmul

/** Floats of one packed right operand [K, N]. */
const matmulBlock = (k: number, n: number): number => padTo(n, PANEL) * k;

export function matmulScratch(aShape: Shape, bShape: Shape): number {
  const k = bShape[bShape.length - 2]!;
  const n = bShape[bShape.length - 1]!;
  return (numel(bShape) / (k * n)) * matmulBlock(k, n) * 4;
}

/** out[t] = a[t] @ b[t] for row-major [M, K] and [K, N] matrices, with a scratch region of matmulScratch bytes. */
export function matmul(rt: CpuRuntime, aShape: Shape, bShape: Shape, a: number, b: number, out: number, scratch: number): void {
  const m = aShape[aShape.length - 2]!;
  const k = aShape[aShape.length - 1]!;
  const n = bShape[bShape.length - 1]!;
  const batch = numel(aShape) / (m * k);
  const block = matmulBlock(k, n);
  const parallel = batch * m * n * k >= MIN_PARALLEL_MACS;
  // Packing b[t] is im2col of a [K, 1, N] image with a 1x1 kernel.
  rt.call('im2col', [b, k, 1, n, 1, 1, 1, 0, 0, 1, n, k, 1, batch, scratch, block * 4, 64, 8, 8 * k, 1, padTo(n, PANEL)], parallel && batch * k * n >= MIN_PARALLEL_MACS / 8);
  rt.call('gemm', [m, n, k, a, k * 4, scratch, out, n * 4, batch, m * k * 4, block * 4, m * n * 4, 1, 0, 0, 0, 1, 0, 0], parallel);
}
