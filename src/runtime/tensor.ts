// Host-side tensors: float32 data in row-major order with a static shape.

import { formatShape, numel, type Shape } from '../ir/graph.ts';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function tensor(shape: Shape, data?: ArrayLike<number>): Tensor {
  const size = numel(shape);
  if (data !== undefined && data.length !== size) {
    throw new Error(`internal error: tensor of shape ${formatShape(shape)} given ${data.length} values`);
  }
  return { shape: [...shape], data: data === undefined ? new Float32Array(size) : Float32Array.from(data) };
}

export function scalarTensor(value: number): Tensor {
  return { shape: [], data: Float32Array.of(value) };
}

export type TensorMap = Record<string, Tensor>;
