// A worker thread of the reference executor: runs convolution chunks posted by parallel.ts and
// counts each one finished (and failed, if it threw) in the shared control array the caller waits on.

import { parentPort, workerData } from 'node:worker_threads';
import { type ConvChunk, runConvChunk } from './conv-chunk.ts';

const control = (workerData as { control: Int32Array }).control;
const READY = 0;
const FINISHED = 1;
const FAILED = 2;

parentPort!.on('message', (chunk: ConvChunk) => {
  try {
    runConvChunk(chunk);
  } catch {
    // The caller recomputes the chunk itself and reports the error.
    Atomics.add(control, FAILED, 1);
  }
  Atomics.add(control, FINISHED, 1);
  Atomics.notify(control, FINISHED);
});
Atomics.store(control, READY, 1);
