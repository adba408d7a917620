// A worker thread of the cpu target. It instantiates the kernel module on the shared memory, then
// loops: wait for the job counter to change, run its share of the posted kernel, count it done.
// A job with kernel -1 loads a generated module that the caller posted to this worker's port.
// Plain JavaScript, because Node 20 worker threads do not inherit tsx's TypeScript loader.
// The control slots below must match runtime.ts.

import { receiveMessageOnPort, workerData } from 'node:worker_threads';

const JOB = 0;
const DONE = 1;
const FAILED = 2;
const KERNEL = 3;
const ARG_COUNT = 4;
const STOP = 5;
const READY = 6;
const MODULE = 7;
const ARGS = 16;
const LOAD_MODULE = -1;

const { module, memory, control, names, tid, threads, port } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
/** Exports by module id, then by function index. */
const modules = [names.map((name) => instance.exports[name])];

// The host functions of generated modules; runtime.ts gives the calling thread the same ones.
const host = {
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  cos: Math.cos,
  invalidRandnKey: (key) => {
    throw new Error(`invalid randn key ${key}: expected an integer in [0, 2^24)`);
  },
};

function loadModule() {
  // postMessage enqueues before the caller bumps the job counter, so the message is there.
  let received;
  while ((received = receiveMessageOnPort(port)) === undefined);
  const { module: generated, names: exports, id } = received.message;
  const loaded = new WebAssembly.Instance(generated, { env: { memory }, host });
  modules[id] = exports.map((name) => loaded.exports[name]);
}

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
    if (control[KERNEL] === LOAD_MODULE) loadModule();
    else modules[control[MODULE]][control[KERNEL]](...args);
  } catch {
    // The caller reruns this share itself, so the error surfaces there with its message.
    Atomics.add(control, FAILED, 1);
  }
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
}
