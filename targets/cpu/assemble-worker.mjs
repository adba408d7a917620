// Assembles WebAssembly text into an optimized binary with binaryen. It runs in a worker thread of
// plain Node, because loading binaryen's 10 MB script through tsx's transform takes seconds.

import { parentPort, workerData } from 'node:worker_threads';
import binaryen from 'binaryen';

const module = binaryen.parseText(workerData.text);
try {
  // Node 20 supports all of these. The optimizer asserts that BulkMemoryOpt accompanies BulkMemory.
  const { SIMD128, Atomics, BulkMemory, BulkMemoryOpt, MutableGlobals, SignExt, NontrappingFPToInt } = binaryen.Features;
  module.setFeatures(SIMD128 | Atomics | BulkMemory | BulkMemoryOpt | MutableGlobals | SignExt | NontrappingFPToInt);
  if (!module.validate()) throw new Error('the kernel module failed validation (binaryen printed the reason above)');
  binaryen.setOptimizeLevel(workerData.optimizeLevel);
  binaryen.setShrinkLevel(0);
  if (workerData.optimizeLevel > 0) module.optimize();
  const binary = module.emitBinary();
  parentPort.postMessage(binary, [binary.buffer]);
} finally {
  module.dispose();
}
