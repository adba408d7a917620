// The cpu target's runtime: one shared WebAssembly memory, the kernel instance on the calling thread,
// and worker threads that instantiate the same module on the same memory. A kernel call posts its
// arguments to a shared control array, bumps the job counter, runs share 0 on the caller and waits
// until every worker has counted its share done. The caller blocks in Atomics.wait, so a graph runs
// synchronously from start to end and two runs never interleave in the memory.
//
// Modules generated per program (the fused kernels) load later: the caller posts the module to each
// worker's message port and runs a load job, in which every worker receives it synchronously and
// instantiates it on the same memory. Module 0 is the fixed kernel module.

import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { kernelModule } from './assemble.ts';
import { KERNEL_NAMES } from './wasm-source.ts';

export type KernelName = (typeof KERNEL_NAMES)[number];

// Slots of the control array; worker.mjs uses the same numbers.
const JOB = 0;
const DONE = 1;
const FAILED = 2;
const KERNEL = 3;
const ARG_COUNT = 4;
const STOP = 5;
const READY = 6;
const MODULE = 7;
const ARGS = 16;
/** The KERNEL value of a job that loads the module waiting on each worker's port. */
const LOAD_MODULE = -1;
const MAX_ARGS = 48;

const PAGE_BYTES = 65536;
/** The memory's maximum (2 GiB), declared in the kernel module; addresses stay positive as i32. */
export const MAX_MEMORY_BYTES = 32768 * PAGE_BYTES;

/** The maximum wait for the worker threads of one kernel call before the runtime gives up. */
const KERNEL_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 30_000;

/**
 * Returns the default thread count, the caller included: SGAN_CPU_THREADS when set, else one per
 * core (os.availableParallelism()).
 */
export function defaultCpuThreads(): number {
  const configured = process.env.SGAN_CPU_THREADS;
  if (configured !== undefined && configured !== '') {
    const count = Number(configured);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`invalid SGAN_CPU_THREADS '${configured}': expected a positive integer`);
    }
    return count;
  }
  return availableParallelism();
}

type KernelFunction = (...args: number[]) => void;

/**
 * Host functions of generated modules. The generated code calls Math in float64 so that
 * transcendental ops and the normal generator equal the reference executor's.
 */
const HOST_IMPORTS = {
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  cos: Math.cos,
  invalidRandnKey: (key: number): never => {
    throw new Error(`invalid randn key ${key}: expected an integer in [0, 2^24)`);
  },
};

/** A module loaded on every thread. `functions` contains the calling thread's exports by index. */
export interface LoadedModule {
  id: number;
  names: readonly string[];
  functions: KernelFunction[];
}

export class CpuRuntime {
  readonly threads: number;
  readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_MEMORY_BYTES / PAGE_BYTES, shared: true });
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_ARGS)));
  private kernels: KernelFunction[] = [];
  private workers: Worker[] = [];
  private ports: MessagePort[] = [];
  private modules: LoadedModule[] = [];
  private starting: Promise<void> | undefined;
  private workerError: string | undefined;
  private f32: Float32Array = new Float32Array(this.memory.buffer);

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`invalid thread count ${threads}: expected a positive integer`);
    this.threads = threads;
  }

  /** Assembles the kernels and starts the worker threads once; later calls return the same promise. */
  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const module = await kernelModule();
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = KERNEL_NAMES.map((name) => instance.exports[name] as KernelFunction);
    this.modules = [{ id: 0, names: KERNEL_NAMES, functions: this.kernels }];
    for (let tid = 1; tid < this.threads; tid++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
        workerData: { module, memory: this.memory, control: this.control, names: KERNEL_NAMES, tid, threads: this.threads, port: port2 },
        transferList: [port2],
      });
      port1.unref();
      this.ports.push(port1);
      worker.on('error', (error: Error) => {
        this.workerError = `a cpu worker thread failed: ${error.message}`;
      });
      worker.on('exit', (code) => {
        // Reported by the start loop below when a worker exits before it is ready.
        this.workerError ??= `a cpu worker thread exited with code ${code}`;
      });
      worker.unref();
      this.workers.push(worker);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Atomics.load(this.control, READY) < this.workers.length) {
      if (this.workerError !== undefined) throw new Error(this.workerError);
      if (Date.now() > deadline) throw new Error(`cpu target: worker threads did not start within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Grows the memory to at least `bytes`. */
  ensureMemory(bytes: number): void {
    if (bytes > MAX_MEMORY_BYTES) {
      throw new Error(
        `cpu target: the graph needs ${(bytes / 2 ** 20).toFixed(0)} MiB of buffers, more than the ${MAX_MEMORY_BYTES / 2 ** 30} GiB ` +
          'WebAssembly memory limit; use a smaller batch or --target ref',
      );
    }
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
  }

  /** Returns a float32 view of the whole memory, renewed after growth. */
  floats(): Float32Array {
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  /** Returns `length` floats at byte address `address` as a view into the shared memory. */
  view(address: number, length: number): Float32Array {
    return this.floats().subarray(address >> 2, (address >> 2) + length);
  }

  /**
   * Runs kernel `name` with `args` (i32 values) on every thread when `parallel` is set, else on the
   * calling thread alone (share 0 of 1).
   */
  call(name: KernelName, args: readonly number[], parallel: boolean): void {
    const index = KERNEL_NAMES.indexOf(name);
    const kernel = this.kernels[index];
    if (kernel === undefined) throw new Error(`internal error: cpu kernel '${name}' used before CpuRuntime.start()`);
    this.dispatch(0, index, kernel, name, args, parallel);
  }

  /** Runs function `index` of a loaded module, like `call`. */
  callLoaded(module: LoadedModule, index: number, args: readonly number[], parallel: boolean): void {
    this.dispatch(module.id, index, module.functions[index]!, module.names[index]!, args, parallel);
  }

  /**
   * Instantiates `module` (which imports env.memory and the host functions) on the calling thread
   * and on every worker, and returns its handle. `names` lists the exports that kernels call.
   */
  async loadModule(module: WebAssembly.Module, names: readonly string[]): Promise<LoadedModule> {
    await this.start();
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory }, host: HOST_IMPORTS });
    const loaded: LoadedModule = { id: this.modules.length, names, functions: names.map((name) => instance.exports[name] as KernelFunction) };
    if (this.workers.length > 0) {
      for (const port of this.ports) port.postMessage({ module, names: [...names], id: loaded.id });
      this.dispatch(0, LOAD_MODULE, () => undefined, 'module load', [], true);
      if (this.workerError !== undefined) throw new Error(`cpu target: ${this.workerError}`);
    }
    this.modules.push(loaded);
    return loaded;
  }

  private dispatch(moduleId: number, index: number, kernel: KernelFunction, name: string, args: readonly number[], parallel: boolean): void {
    if (!parallel || this.workers.length === 0) {
      kernel(...args, 0, 1);
      return;
    }
    if (args.length > MAX_ARGS) throw new Error(`internal error: cpu kernel '${name}' takes more than ${MAX_ARGS} arguments`);
    if (this.workerError !== undefined) throw new Error(`cpu target: ${this.workerError}; set --threads 1 to run without workers`);
    const control = this.control;
    control[MODULE] = moduleId;
    control[KERNEL] = index;
    control[ARG_COUNT] = args.length;
    for (let i = 0; i < args.length; i++) control[ARGS + i] = args[i]! | 0;
    Atomics.store(control, DONE, 0);
    const failedBefore = Atomics.load(control, FAILED);
    Atomics.add(control, JOB, 1);
    Atomics.notify(control, JOB);

    // The workers finish this job even when the caller's share throws. Returning before they count
    // it done would let their late DONE and FAILED updates land in the next job's counts.
    let callerFailed = false;
    let callerError: unknown;
    try {
      kernel(...args, 0, this.threads);
    } catch (error) {
      callerFailed = true;
      callerError = error;
    }

    // NOTE: a worker that dies inside a kernel (not a thrown error, which it counts) is noticed only
    // by this timeout, because its 'exit' event cannot run while this thread blocks.
    const workers = this.workers.length;
    for (;;) {
      const done = Atomics.load(control, DONE);
      if (done >= workers) break;
      if (Atomics.wait(control, DONE, done, KERNEL_TIMEOUT_MS) === 'timed-out') {
        throw new Error(`cpu target: worker threads did not finish kernel '${name}' within ${KERNEL_TIMEOUT_MS / 1000} s; set --threads 1`);
      }
    }
    if (callerFailed) throw callerError;
    if (Atomics.load(control, FAILED) !== failedBefore) {
      if (index === LOAD_MODULE) throw new Error('cpu target: a worker thread failed to instantiate a generated kernel module');
      // Rerun every worker's share here, so the error surfaces with its own message.
      for (let tid = 1; tid < this.threads; tid++) kernel(...args, tid, this.threads);
    }
  }

  /** Stops the worker threads; the runtime cannot run kernels on them afterwards. */
  async close(): Promise<void> {
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, JOB, 1);
    Atomics.notify(this.control, JOB);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers = [];
  }
}

const runtimes = new Map<number, CpuRuntime>();

/** Returns the process-wide runtime for a thread count, creating it on first use. */
export function cpuRuntime(threads: number): CpuRuntime {
  let runtime = runtimes.get(threads);
  if (runtime === undefined) {
    runtime = new CpuRuntime(threads);
    runtimes.set(threads, runtime);
  }
  return runtime;
}
