// Assembles the kernel text into a WebAssembly module with binaryen, the WebAssembly project's own
// compiler library: it parses the text format, validates it and runs its optimizer before emitting
// the binary. The module is built once per process and shared by every runtime and worker. The binary
// is also cached on disk under node_modules/.cache, keyed by a hash of the text, so later processes
// skip the assembler. Generated modules (the fused kernels of one program) go through a long-lived
// assembler thread and the same disk cache.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { kernelModuleText } from './wasm-source.ts';

/** binaryen's optimization level for the kernels (0 to 4). */
const OPTIMIZE_LEVEL = 2;

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/sganc-cpu', import.meta.url));

let cached: Promise<WebAssembly.Module> | undefined;

/** Runs assemble-worker.mjs on `text` and resolves with the binary. */
export function assembleText(text: string, optimizeLevel: number = OPTIMIZE_LEVEL): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./assemble-worker.mjs', import.meta.url), { workerData: { text, optimizeLevel } });
    let binary: Uint8Array | undefined;
    worker.on('message', (message: Uint8Array) => {
      binary = message;
    });
    worker.on('error', (error: Error) => reject(new Error(`assembling the cpu kernels failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (binary !== undefined) resolve(binary);
      else reject(new Error(`assembling the cpu kernels failed: the assembler thread exited with code ${code}`));
    });
  });
}

/** Returns the installed binaryen version, part of the cache key, or 'unknown'. */
function binaryenVersion(): string {
  try {
    const manifest = fileURLToPath(new URL('../../node_modules/binaryen/package.json', import.meta.url));
    return String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
}

/** Returns the binary from the disk cache, or assembles and caches it. A cache that cannot be read or written is skipped. */
async function cachedBinary(
  text: string,
  prefix = 'kernels',
  level = OPTIMIZE_LEVEL,
  assemble: (text: string, level: number) => Promise<Uint8Array> = assembleText,
): Promise<Uint8Array> {
  const key = createHash('sha256').update(`${binaryenVersion()}\n${level}\n${text}`).digest('hex').slice(0, 32);
  const path = join(CACHE_DIR, `${prefix}-${key}.wasm`);
  try {
    const binary = new Uint8Array(readFileSync(path));
    if (WebAssembly.validate(binary)) return binary;
  } catch {
    // Not cached yet.
  }
  const binary = await assemble(text, level);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Write then rename, so a concurrent reader never sees a partial file.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, binary);
    renameSync(temporary, path);
  } catch {
    // A read-only install still works; it assembles in every process.
  }
  return binary;
}

/** Returns the compiled kernel module, assembling it (or reading the disk cache) on the first call. */
export function kernelModule(): Promise<WebAssembly.Module> {
  cached ??= cachedBinary(kernelModuleText()).then((binary) => WebAssembly.compile(binary as Uint8Array<ArrayBuffer>));
  return cached;
}

let service: Worker | undefined;
let nextRequest = 0;
const pending = new Map<number, { resolve: (binary: Uint8Array) => void; reject: (error: Error) => void }>();

/** Assembles `text` on the long-lived assembler thread, which keeps the process alive only while a request is pending. */
function assembleInService(text: string, optimizeLevel: number): Promise<Uint8Array> {
  if (service === undefined) {
    const worker = new Worker(new URL('./assemble-service.mjs', import.meta.url));
    worker.on('message', (reply: { id: number; binary?: Uint8Array; error?: string }) => {
      const request = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if (request === undefined) return;
      if (reply.binary !== undefined) request.resolve(reply.binary);
      else request.reject(new Error(`assembling the fused cpu kernels failed: ${reply.error}`));
    });
    const failAll = (message: string): void => {
      service = undefined;
      for (const request of pending.values()) request.reject(new Error(`assembling the fused cpu kernels failed: ${message}`));
      pending.clear();
    };
    worker.on('error', (error: Error) => failAll(error.message));
    worker.on('exit', (code) => failAll(`the assembler thread exited with code ${code}`));
    service = worker;
  }
  const worker = service;
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.ref();
    worker.postMessage({ id, text, optimizeLevel });
  });
}

const generated = new Map<string, Promise<WebAssembly.Module>>();

/** Returns the compiled module of generated kernel text, from the process or disk cache when the same text was assembled before. */
export function generatedModule(text: string): Promise<WebAssembly.Module> {
  let module = generated.get(text);
  if (module === undefined) {
    module = cachedBinary(text, 'fused', OPTIMIZE_LEVEL, assembleInService).then((binary) => WebAssembly.compile(binary as Uint8Array<ArrayBuffer>));
    generated.set(text, module);
  }
  return module;
}
