// The worker-thread path of the reference executor must give the same bits as one thread.

import { afterEach, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { type ConvAttrs, numel, type Shape } from '../../src/ir/graph.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { conv2dBackInputKernel, conv2dKernel } from '../../targets/ref/conv.ts';
import { refThreadCount, refWorkerError, startRefWorkers } from '../../targets/ref/parallel.ts';
import { runGraph } from '../../targets/ref/run.ts';
import { uniformSource } from './helpers.ts';

function randomTensor(shape: Shape, seed: number): { shape: number[]; data: Float32Array } {
  const next = uniformSource(seed);
  return { shape: [...shape], data: Float32Array.from({ length: numel(shape) }, () => next(-1, 1)) };
}

function runWithThreads(threads: string, graph: Builder['graph'], feeds: TensorMap): TensorMap {
  const saved = process.env.SGAN_REF_THREADS;
  process.env.SGAN_REF_THREADS = threads;
  try {
    return runGraph(graph, feeds);
  } finally {
    if (saved === undefined) delete process.env.SGAN_REF_THREADS;
    else process.env.SGAN_REF_THREADS = saved;
  }
}

afterEach(() => {
  delete process.env.SGAN_REF_THREADS;
});

describe('ref worker threads', () => {
  it('match one thread bit for bit', async () => {
    // Three threads: the caller and two workers, so chunks go to more than one worker. The
    // convolutions have over 2^20 multiply-adds, enough to be split.
    process.env.SGAN_REF_THREADS = '3';
    const ready = await startRefWorkers();
    expect(refWorkerError()).toBeUndefined();
    expect(ready).toBe(2);

    const xShape = [9, 8, 16, 16];
    const wShape = [8, 8, 3, 3];
    const attrs: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };
    const b = new Builder();
    const x = b.input('x', xShape);
    const w = b.param('w', wShape);
    const y = b.conv2d(x, w, attrs);
    const dy = b.input('dy', b.shape(y));
    b.output('y', y);
    b.output('dx', b.conv2dBackInput(dy, w, attrs, xShape));
    b.output('dw', b.conv2dBackWeight(x, dy, attrs, wShape));
    const feeds: TensorMap = { x: randomTensor(xShape, 1), w: randomTensor(wShape, 2), dy: randomTensor(b.shape(y), 3) };

    const parallel = runWithThreads('3', b.graph, feeds);
    const single = runWithThreads('1', b.graph, feeds);
    for (const name of ['y', 'dx', 'dw']) {
      expect(Array.from(parallel[name]!.data), name).toEqual(Array.from(single[name]!.data));
    }

    // Feeds in shared memory reach the workers as views instead of copies.
    const sharedFeeds: TensorMap = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const data = new Float32Array(new SharedArrayBuffer(tensor.data.length * 4));
      data.set(tensor.data);
      sharedFeeds[name] = { shape: tensor.shape, data };
    }
    const fromShared = runWithThreads('3', b.graph, sharedFeeds);
    for (const name of ['y', 'dx', 'dw']) {
      expect(Array.from(fromShared[name]!.data), name).toEqual(Array.from(single[name]!.data));
    }

    // Forward and input gradient are per image, so they also equal an unsplit kernel call.
    const yDirect = new Float32Array(numel(b.shape(y)));
    conv2dKernel(feeds.x!.data, xShape, feeds.w!.data, wShape, attrs, yDirect, b.shape(y));
    expect(Array.from(parallel.y!.data)).toEqual(Array.from(yDirect));
    const dxDirect = new Float32Array(numel(xShape));
    conv2dBackInputKernel(feeds.dy!.data, b.shape(y), feeds.w!.data, wShape, attrs, dxDirect, xShape);
    expect(Array.from(parallel.dx!.data)).toEqual(Array.from(dxDirect));
  });

  it('rejects an invalid SGAN_REF_THREADS', () => {
    process.env.SGAN_REF_THREADS = 'two';
    expect(() => refThreadCount()).toThrow("invalid SGAN_REF_THREADS 'two': expected a positive integer");
  });
});
