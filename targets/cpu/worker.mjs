// A worker thread of the cpu target. It instantiates the kernel module on the shared memory, then
// loops: wait for the job counter to change, run its share of the posted kernel, count it done.
// Plain JavaScript, because Node 20 worker threads do not inherit tsx's TypeScript loader.
// The control slots below must match runtime.ts.

import { workerData } from 'node:worker_threads';

const JOB = 0;
const DONE = 1;
const FAILED = 2;
const KERNEL = 3;
const ARG_COUNT = 4;
const STOP = 5;
const READY = 6;
const ARGS = 16;

const { module, memory, control, names, tid, threads } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const kernels = names.map((name) => instance.exports[name]);

let seen = Atomics.load(control, JOB);
Atomics.add(control, READY, 1);
Atomics.notify(control, READY);
for (;;) {
  Atomics.wait(control, JOB, seen);
  const job = Atomics.load(control, JOB);
  if (job === seen) continue;
  seen = job;
  if (Atomics.load(control, STOP) !== 0) break;
  const count = control[ARG_COUNT];
  const args = new Array(count + 2);
  for (let i = 0; i < count; i++) args[i] = control[ARGS + i];
  args[count] = tid;
  args[count + 1] = threads;
  try {
    kernels[control[KERNEL]](...args);
  } catch {
    // The caller reruns this share itself, so the error surfaces there with its message.
    Atomics.add(control, FAILED, 1);
  }
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}
