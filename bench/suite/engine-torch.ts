// PyTorch (Debian's python3-torch, 1.13) and onnxruntime-node as engines. PyTorch runs in one
// long-lived Python process (bench/torch_model.py) that builds each case from the same ModelSpec
// and parameters; ONNX Runtime runs the forward cases that this process exports with torch.onnx.

import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-common';
import { readSafetensors, writeSafetensors } from '../../src/runtime/safetensors.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import type { BenchCase } from './cases.ts';
import type { Engine, Runner } from './rows.ts';

const PYTHON = '/usr/bin/python3';

/** The onnxruntime-node release the benchmark installs on first use. */
const ORT_PACKAGE = 'onnxruntime-node@1.31.1';

/** onnxruntime-node's exports (the onnxruntime-common API); set by loadOnnxRuntime. */
let loadedOrt: typeof Ort | undefined;

/** Returns onnxruntime-node's exports; loadOnnxRuntime must have succeeded. */
function onnxRuntime(): typeof Ort {
  if (loadedOrt === undefined) throw new Error('internal error: ONNX Runtime is used before loadOnnxRuntime loaded it');
  return loadedOrt;
}

/**
 * Imports onnxruntime-node, installing it first with npm (without saving it) when it is missing.
 * It is not a project dependency because its install script downloads a CUDA provider unless
 * ONNXRUNTIME_NODE_INSTALL=skip is set, which a plain `npm install` does not do. Returns why ONNX
 * Runtime is unavailable, or undefined.
 */
export async function loadOnnxRuntime(log: (line: string) => void): Promise<string | undefined> {
  const load = async (specifier: string): Promise<boolean> => {
    try {
      loadedOrt = (await import(specifier)) as typeof Ort;
      return true;
    } catch {
      return false;
    }
  };
  if (await load('onnxruntime-node')) return undefined;
  log(`installing ${ORT_PACKAGE} with npm (ONNXRUNTIME_NODE_INSTALL=skip, not saved to package.json)`);
  const install = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', ORT_PACKAGE], {
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (install.status !== 0) return `npm install ${ORT_PACKAGE} failed`;
  // The failed import above stays cached under the package name, so the new install is imported by path.
  const path = createRequire(import.meta.url).resolve('onnxruntime-node');
  if (!(await load(pathToFileURL(path).href))) return `${ORT_PACKAGE} was installed but cannot be imported`;
  return undefined;
}
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'torch_model.py');

/**
 * Checks that Debian's Python can import torch, installing python3-torch with apt-get when it
 * cannot and this process runs as root. Returns why PyTorch is unavailable, or undefined.
 */
export function ensureTorch(log: (line: string) => void): string | undefined {
  const probe = () => spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe().status === 0) return undefined;
  if (process.getuid?.() !== 0) return `${PYTHON} cannot import torch; install Debian's python3-torch (as root: apt-get install -y python3-torch)`;
  log('installing python3-torch with apt-get');
  const install = spawnSync('apt-get', ['install', '-y', 'python3-torch'], { stdio: 'inherit' });
  if (install.status !== 0 || probe().status !== 0) return 'apt-get install -y python3-torch failed';
  return undefined;
}

type Reply = Record<string, unknown>;

/** The Python process: one JSON request per line in, one JSON reply per line out, in order. */
export class TorchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private exited = false;
  readonly workDir = mkdtempSync(join(tmpdir(), 'sganc-bench-torch-'));

  constructor(threads: number) {
    // libgomp threads spin while they wait for work by default. When other processes share the
    // cores, the spinning threads take the time slices of the working ones and small ops run 10x
    // slower, so they wait passively unless the caller set a policy.
    const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE', PYTHONWARNINGS: 'ignore' };
    this.child = spawn(PYTHON, [SCRIPT, String(threads)], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[torch] ${chunk.toString()}`));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiting = this.pending.shift();
      if (waiting === undefined) return;
      const reply = JSON.parse(line) as Reply;
      if (typeof reply.error === 'string') waiting.reject(new Error(reply.error));
      else waiting.resolve(reply);
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const waiting of this.pending.splice(0)) waiting.reject(new Error(`the PyTorch process exited with status ${code}`));
    });
  }

  request(body: Reply): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error('the PyTorch process has exited'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** Sends a case to Python, which builds it and runs it once; returns its outputs. */
async function loadCase(torch: TorchProcess, c: BenchCase, threads: number): Promise<TensorMap> {
  const feedsPath = join(torch.workDir, `${c.id}-feeds.safetensors`);
  const outputsPath = join(torch.workDir, `${c.id}-outputs.safetensors`);
  writeSafetensors(feedsPath, c.feeds);
  await torch.request({ cmd: 'load', case: c.id, threads, peer: c.peer, spec: c.spec ?? null, feeds: feedsPath, outputs: outputsPath });
  const outputs = readSafetensors(outputsPath).tensors;
  rmSync(feedsPath, { force: true });
  rmSync(outputsPath, { force: true });
  return outputs;
}

export function torchEngine(torch: TorchProcess, threads: number): Engine {
  return {
    name: `torch ${threads}t`,
    sganc: false,
    skipReason: (c) => (c.peer.kind === 'compile' ? 'sganc only' : undefined),
    async prepare(c) {
      let first: TensorMap | undefined = await loadCase(torch, c, threads);
      return {
        // The first call returns the outputs of the load run, so the case is not built twice.
        async run() {
          if (first !== undefined) {
            const outputs = first;
            first = undefined;
            return outputs;
          }
          await torch.request({ cmd: 'time', case: c.id, threads, warmup: 0, runs: 1 });
          return {};
        },
        async time(warmup, runs) {
          const reply = await torch.request({ cmd: 'time', case: c.id, threads, warmup, runs });
          return reply.times as number[];
        },
        async kernels() {
          const reply = await torch.request({ cmd: 'kernels', case: c.id, threads });
          return reply.kernels as number;
        },
        async dispose() {
          await torch.request({ cmd: 'drop', case: c.id });
        },
      };
    },
  };
}

export interface PeakMeasurement {
  gflops: number;
  method: string;
}

/**
 * Measures the machine's fp32 peak as the best of three large kernels on `threads` threads: a
 * 3x3 convolution 8x256x32x32 -> 256 in PyTorch (oneDNN), a 1024^3 matmul in PyTorch (its BLAS)
 * and the same matmul in ONNX Runtime (MLAS). Each is the best of `runs` runs.
 */
export async function measurePeak(torch: TorchProcess, threads: number, runs: number): Promise<PeakMeasurement> {
  const inTorch = await torch.request({ cmd: 'peak', threads, runs });
  const figures: [string, number][] = [
    ['PyTorch conv2d 3x3 8x256x32x32 -> 256', inTorch.conv as number],
    [`PyTorch matmul ${PEAK_SIZE}^3`, inTorch.matmul as number],
  ];
  // ONNX Runtime joins only when loadOnnxRuntime found or installed it.
  if (loadedOrt !== undefined) figures.push([`ONNX Runtime matmul ${PEAK_SIZE}^3`, await ortMatmulGflops(torch, threads, runs)]);
  const gflops = Math.max(...figures.map(([, value]) => value));
  const listed = figures.map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ');
  return { gflops, method: `the best of ${listed} GFLOP/s (best of ${runs} runs each, ${threads} threads)` };
}

const PEAK_SIZE = 1024;

/** Returns the GFLOP/s of ONNX Runtime's best of `runs` PEAK_SIZE^3 matmuls after one warm-up. */
async function ortMatmulGflops(torch: TorchProcess, threads: number, runs: number): Promise<number> {
  const path = join(torch.workDir, 'peak-matmul.onnx');
  const size = PEAK_SIZE;
  await torch.request({ cmd: 'export_matmul', size, path });
  const session = await onnxRuntime().InferenceSession.create(path, sessionOptions(threads));
  const a = new (onnxRuntime().Tensor)('float32', Float32Array.from({ length: size * size }, (_, i) => (i % 7) / 7), [size, size]);
  let best = Infinity;
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    await session.run({ a, b: a });
    if (i > 0) best = Math.min(best, performance.now() - start);
  }
  await session.release();
  return (2 * size ** 3) / best / 1e6;
}

function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Spinning pool threads steal time slices from the working ones when the cores are shared.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** Counts the node kernels that ONNX Runtime's profiler records for one run of a fresh session. */
async function countOrtKernels(path: string, feeds: Record<string, Ort.Tensor>, threads: number, workDir: string): Promise<number | undefined> {
  const prefix = join(workDir, `profile-${Date.now()}`);
  const session = await onnxRuntime().InferenceSession.create(path, { ...sessionOptions(threads), enableProfiling: true, profileFilePrefix: prefix });
  await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(workDir).map((name) => join(workDir, name)).find((name) => name.startsWith(prefix));
  if (file === undefined) return undefined;
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat?: string; name?: string }[];
  rmSync(file, { force: true });
  return events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') === true).length;
}

const FORWARD_KINDS = new Set(['conv2d', 'matmul', 'layers', 'mapping', 'generator']);

export function onnxEngine(torch: TorchProcess, threads: number): Engine {
  return {
    name: `onnxruntime ${threads}t`,
    sganc: false,
    skipReason(c) {
      if (c.peer.kind === 'compile') return 'sganc only';
      if (!FORWARD_KINDS.has(c.peer.kind)) return 'forward cases only';
      return undefined;
    },
    async prepare(c): Promise<Runner> {
      await loadCase(torch, c, threads);
      const path = join(torch.workDir, `${c.id}.onnx`);
      const exported = await torch.request({ cmd: 'onnx', case: c.id, path });
      await torch.request({ cmd: 'drop', case: c.id });
      const outputName = exported.output as string;
      const session = await onnxRuntime().InferenceSession.create(path, sessionOptions(threads));
      const feeds: Record<string, Ort.Tensor> = {};
      for (const name of session.inputNames) {
        const t = c.feeds[name];
        if (t === undefined) throw new Error(`the ONNX model of ${c.id} reads ${name}, which the case does not feed`);
        feeds[name] = new (onnxRuntime().Tensor)('float32', t.data, t.shape);
      }
      return {
        async run() {
          const result = await session.run(feeds);
          const y = result[outputName]!;
          return { [outputName]: { shape: [...y.dims], data: Float32Array.from(y.data as Float32Array) } };
        },
        async time(warmup, runs) {
          const times: number[] = [];
          for (let i = 0; i < warmup + runs; i++) {
            const start = performance.now();
            await session.run(feeds);
            if (i >= warmup) times.push(performance.now() - start);
          }
          return times;
        },
        kernels: () => countOrtKernels(path, feeds, threads, torch.workDir),
        async dispose() {
          await session.release();
          rmSync(path, { force: true });
        },
      };
    },
  };
}
