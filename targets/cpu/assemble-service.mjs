// A long-lived assembler thread for the generated kernel modules. It loads binaryen once and then
// replies to every request { id, text, optimizeLevel } with { id, binary } or { id, error }, so a
// process that compiles many programs pays binaryen's load time once.

import { parentPort } from 'node:worker_threads';
import binaryen from 'binaryen';

const { SIMD128, Atomics, BulkMemory, BulkMemoryOpt, MutableGlobals, SignExt, NontrappingFPToInt } = binaryen.Features;

parentPort.on('message', ({ id, text, optimizeLevel }) => {
  let module;
  try {
    module = binaryen.parseText(text);
    module.setFeatures(SIMD128 | Atomics | BulkMemory | BulkMemoryOpt | MutableGlobals | SignExt | NontrappingFPToInt);
    if (!module.validate()) throw new Error('a generated kernel module failed validation (binaryen printed the reason above)');
    binaryen.setOptimizeLevel(optimizeLevel);
    binaryen.setShrinkLevel(0);
    if (optimizeLevel > 0) module.optimize();
    const binary = module.emitBinary();
    parentPort.postMessage({ id, binary }, [binary.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  } finally {
    module?.dispose();
  }
});
