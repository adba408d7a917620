// Spreads the reference executor's convolutions over worker threads, split by image. The caller
// stays synchronous: it posts chunks to the workers, computes its own chunk, then blocks in
// Atomics.wait until the workers flag theirs done. Results never depend on the thread count:
// images are independent in conv2d and conv2dBackInput, and conv2dBackWeight always sums the same
// fixed batch chunks in the same order, whichever thread computed them.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { type ConvAttrs, numel, type Shape } from '../../src/ir/graph.ts';
import { type ConvChunk, type ConvOp, runConvChunk } from './conv-chunk.ts';

/** conv2dBackWeight sums this many batch chunks, in order, on any number of threads. */
const WEIGHT_CHUNKS = 4;

/** Convolutions with fewer multiply-adds than this run on the calling thread alone. */
const MIN_PARALLEL_WORK = 1 << 20;

/** Slots of a worker's control array: a ready flag, then running counts of finished and failed chunks. */
const READY = 0;
const FINISHED = 1;
const FAILED = 2;

/** The maximum wait for one chunk before the executor gives up on its worker. */
const CHUNK_TIMEOUT_MS = 300_000;

interface PoolWorker {
  worker: Worker;
  /** [READY, FINISHED, FAILED] in shared memory, written by the worker. */
  control: Int32Array;
  /** Chunks posted so far; the worker has caught up when FINISHED reaches this. */
  posted: number;
  dead: boolean;
}

let pool: PoolWorker[] | undefined;

/**
 * Returns the number of threads, the caller included: SGAN_REF_THREADS when set, else the machine's
 * available parallelism, at most 4.
 * NOTE: the speedup is unmeasured on an idle machine. On the shared 2-core development machine,
 * with a load average near 6, two threads timed the same as one (bench/ref-ops.ts).
 */
export function refThreadCount(): number {
  const configured = process.env.SGAN_REF_THREADS;
  if (configured !== undefined && configured !== '') {
    const count = Number(configured);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`invalid SGAN_REF_THREADS '${configured}': expected a positive integer`);
    }
    return count;
  }
  return Math.min(4, availableParallelism());
}

/** Reason the worker threads could not start, if they could not. The executor then runs on one thread. */
let poolError: string | undefined;

/**
 * Bundles conv-worker.ts and its imports into one CommonJS script with esbuild (the compiler that
 * tsx runs on), because Node 20 worker threads do not inherit tsx's TypeScript loader.
 */
function workerSource(): string {
  const entry = fileURLToPath(new URL('./conv-worker.ts', import.meta.url));
  const result = buildSync({ entryPoints: [entry], bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}

/** Starts the worker threads once. They are unref'd, so they never keep the process alive. */
function startPool(): PoolWorker[] {
  if (pool !== undefined) return pool;
  pool = [];
  const threads = refThreadCount();
  if (threads <= 1) return pool;
  let source: string;
  try {
    source = workerSource();
  } catch (error) {
    poolError = `bundling the worker script failed: ${(error as Error).message}`;
    return pool;
  }
  for (let i = 1; i < threads; i++) {
    const control = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(source, { eval: true, workerData: { control } });
    const entry: PoolWorker = { worker, control, posted: 0, dead: false };
    worker.on('error', (error: Error) => {
      entry.dead = true;
      poolError = `a worker thread failed: ${error.message}`;
    });
    worker.on('exit', () => {
      entry.dead = true;
    });
    worker.unref();
    pool.push(entry);
  }
  return pool;
}

/** Returns why the worker threads are not running, or undefined when they are or were never needed. */
export function refWorkerError(): string | undefined {
  return poolError;
}

function readyWorkers(): PoolWorker[] {
  return startPool().filter((w) => !w.dead && Atomics.load(w.control, READY) === 1);
}

/** Returns the multiply-adds of a convolution; `a`, `b` and `out` are the shapes runConv receives. */
function convWork(op: ConvOp, aShape: Shape, bShape: Shape, outShape: Shape): number {
  if (op === 'conv2dBackWeight') return numel(bShape) * numel(outShape.slice(1));
  return numel(op === 'conv2d' ? outShape : aShape) * numel(bShape.slice(1));
}

/** Returns whether runConv would split this convolution over workers once they are ready. */
export function isParallelConv(op: ConvOp, aShape: Shape, bShape: Shape, outShape: Shape): boolean {
  return convWork(op, aShape, bShape, outShape) >= MIN_PARALLEL_WORK;
}

/**
 * Starts the worker threads and resolves with the number of ready workers once every worker has
 * started or failed, or after `timeoutMs`. Optional: without it, workers start on the first
 * convolution and join in once they are ready.
 */
export async function startRefWorkers(timeoutMs = 10_000): Promise<number> {
  const workers = startPool();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && workers.some((w) => !w.dead && Atomics.load(w.control, READY) === 0)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return readyWorkers().length;
}

/** Splits [0, n) into `parts` contiguous ranges of nearly equal size; empty ranges are dropped. */
function splitBatch(n: number, parts: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((i * n) / parts);
    const end = Math.floor(((i + 1) * n) / parts);
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}

/** Returns images [start, end) of a batch-major tensor, as a view when shared and as a copy otherwise. */
function batchSlice(data: Float32Array, shape: Shape, start: number, end: number, shared: boolean): Float32Array {
  const size = numel(shape.slice(1));
  return shared ? data.subarray(start * size, end * size) : data.slice(start * size, end * size);
}

function withBatch(shape: Shape, n: number): number[] {
  return [n, ...shape.slice(1)];
}

/** Returns the thread that runs chunk i: 0 is the caller, k > 0 is workers[k - 1]. */
function ownerOf(i: number, workers: readonly PoolWorker[]): number {
  return i % (workers.length + 1);
}

/** Runs every chunk on its owner (see ownerOf) and returns when all are done. */
function runChunks(chunks: ConvChunk[], workers: PoolWorker[]): void {
  const failedBefore = workers.map((w) => Atomics.load(w.control, FAILED));
  chunks.forEach((chunk, i) => {
    const owner = ownerOf(i, workers);
    if (owner === 0) return;
    const worker = workers[owner - 1]!;
    worker.posted++;
    worker.worker.postMessage(chunk);
  });
  chunks.forEach((chunk, i) => {
    if (ownerOf(i, workers) === 0) runConvChunk(chunk);
  });

  workers.forEach((worker, k) => {
    for (;;) {
      const finished = Atomics.load(worker.control, FINISHED);
      if (finished >= worker.posted) break;
      if (Atomics.wait(worker.control, FINISHED, finished, CHUNK_TIMEOUT_MS) === 'timed-out') {
        worker.dead = true;
        throw new Error(
          `ref executor: a worker thread did not finish a ${chunks[0]!.op} chunk within ${CHUNK_TIMEOUT_MS / 1000} s; ` +
            'set SGAN_REF_THREADS=1 to run on one thread',
        );
      }
    }
    if (Atomics.load(worker.control, FAILED) === failedBefore[k]) return;
    // Recompute this worker's chunks here, so a genuine error surfaces with its own message.
    worker.dead = true;
    chunks.forEach((chunk, i) => {
      if (ownerOf(i, workers) !== k + 1) return;
      chunk.out.fill(0);
      runConvChunk(chunk);
    });
  });
}

/**
 * Runs a convolution node, split over the worker threads when it is large enough and workers are
 * ready. `a` is x (conv2d, conv2dBackWeight) or dy (conv2dBackInput); `b` is w, or dy for
 * conv2dBackWeight; `out` receives the node's float32 result.
 */
export function runConv(
  op: ConvOp,
  a: Float32Array,
  aShape: Shape,
  b: Float32Array,
  bShape: Shape,
  attrs: ConvAttrs,
  out: Float32Array,
  outShape: Shape,
): void {
  const n = aShape[0]!;
  const workers = isParallelConv(op, aShape, bShape, outShape) && refThreadCount() > 1 ? readyWorkers() : [];

  if (op === 'conv2dBackWeight') {
    const ranges = splitBatch(n, WEIGHT_CHUNKS);
    const chunks = ranges.map(([start, end], i): ConvChunk => {
      const toWorker = ownerOf(i, workers) > 0;
      return {
        op,
        a: batchSlice(a, aShape, start, end, !toWorker || a.buffer instanceof SharedArrayBuffer),
        aShape: withBatch(aShape, end - start),
        b: batchSlice(b, bShape, start, end, !toWorker || b.buffer instanceof SharedArrayBuffer),
        bShape: withBatch(bShape, end - start),
        attrs,
        out: toWorker ? new Float64Array(new SharedArrayBuffer(out.length * 8)) : new Float64Array(out.length),
        outShape: [...outShape],
      };
    });
    runChunks(chunks, workers);
    const total = new Float64Array(out.length);
    for (const chunk of chunks) {
      const partial = chunk.out;
      for (let i = 0; i < total.length; i++) total[i] += partial[i]!;
    }
    for (let i = 0; i < out.length; i++) out[i] = total[i]!;
    return;
  }

  if (workers.length === 0) {
    runConvChunk({ op, a, aShape: [...aShape], b, bShape: [...bShape], attrs, out, outShape: [...outShape] });
    return;
  }
  const ranges = splitBatch(n, workers.length + 1);
  const outImage = numel(outShape.slice(1));
  const chunks = ranges.map(([start, end], i): ConvChunk => {
    const toWorker = ownerOf(i, workers) > 0;
    return {
      op,
      a: batchSlice(a, aShape, start, end, !toWorker || a.buffer instanceof SharedArrayBuffer),
      aShape: withBatch(aShape, end - start),
      b,
      bShape: [...bShape],
      attrs,
      // Workers write into shared memory, copied into `out` below.
      out: toWorker ? new Float32Array(new SharedArrayBuffer((end - start) * outImage * 4)) : out.subarray(start * outImage, end * outImage),
      outShape: withBatch(outShape, end - start),
    };
  });
  runChunks(chunks, workers);
  chunks.forEach((chunk, i) => {
    if (ownerOf(i, workers) > 0) out.set(chunk.out as Float32Array, ranges[i]![0] * outImage);
  });
}
