// Assembles the kernel text into a WebAssembly module with binaryen, the WebAssembly project's own
// compiler library: it parses the text format, validates it and runs its optimizer before emitting
// the binary. The module is built once per process and shared by every runtime and worker.

import { Worker } from 'node:worker_threads';
import { kernelModuleText } from './wasm-source.ts';

/** binaryen's optimization level for the kernels (0 to 4). */
const OPTIMIZE_LEVEL = 2;

let cached: Promise<WebAssembly.Module> | undefined;

/** Runs assemble-worker.mjs on `text` and resolves with the binary. */
export function assembleText(text: string, optimizeLevel = OPTIMIZE_LEVEL): Promise<Uint8Array> {
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

/** Returns the compiled kernel module, assembling it on the first call. */
export function kernelModule(): Promise<WebAssembly.Module> {
  cached ??= assembleText(kernelModuleText()).then((binary) => WebAssembly.compile(binary as Uint8Array<ArrayBuffer>));
  return cached;
}
