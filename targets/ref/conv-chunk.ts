// One batch chunk of a convolution, the unit of work that parallel.ts hands to worker threads.

import type { ConvAttrs } from '../../src/ir/graph.ts';
import { conv2dBackInputKernel, conv2dBackWeightAccumulate, conv2dKernel } from './conv.ts';

export type ConvOp = 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight';

/**
 * One batch chunk of a convolution. `a` is the batch-major first operand (x for conv2d and
 * conv2dBackWeight, dy for conv2dBackInput); `b` is the weight, or the chunk of dy for
 * conv2dBackWeight. `out` is float32 for conv2d and conv2dBackInput, and a float64 buffer that
 * conv2dBackWeight adds into.
 */
export interface ConvChunk {
  op: ConvOp;
  a: Float32Array;
  aShape: number[];
  b: Float32Array;
  bShape: number[];
  attrs: ConvAttrs;
  out: Float32Array | Float64Array;
  outShape: number[];
}

/** Runs the chunk's kernel, writing (or for conv2dBackWeight adding) into `chunk.out`. */
export function runConvChunk(chunk: ConvChunk): void {
  switch (chunk.op) {
    case 'conv2d':
      conv2dKernel(chunk.a, chunk.aShape, chunk.b, chunk.bShape, chunk.attrs, chunk.out as Float32Array, chunk.outShape);
      return;
    case 'conv2dBackInput':
      conv2dBackInputKernel(chunk.a, chunk.aShape, chunk.b, chunk.bShape, chunk.attrs, chunk.out as Float32Array, chunk.outShape);
      return;
    case 'conv2dBackWeight':
      conv2dBackWeightAccumulate(chunk.a, chunk.aShape, chunk.b, chunk.bShape, chunk.attrs, chunk.out as Float64Array, chunk.outShape);
      return;
  }
}
