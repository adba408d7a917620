/// <reference types="@webgpu/types" />
// The wgsl target: fused kernels as WGSL compute shaders, run through WebGPU (navigator.gpu in a
// browser, the `webgpu` package in Node). This module bundles for the browser: the Node-only code
// sits behind a dynamic import in device-node.ts.

import type { Graph } from '../../src/ir/graph.ts';
import type { TargetLimits } from '../../src/opt/index.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { sharedDevice } from './device.ts';
import { WgslProgram } from './program.ts';

export { hardwareAdapterAvailable, WebGpuUnavailableError } from './device.ts';
export { TensorTooLargeError, deviceTargetLimits } from './program.ts';
export { wgslKernelSources, programShaders } from './sources.ts';

export interface WgslTargetOptions {
  /** The device to run on; default the process-wide device of the first adapter found. */
  device?: GPUDevice;
  /**
   * Limits that replace the device's for fusion and scheduling, such as a larger
   * maxStorageBuffers to fuse more. Kernels that then bind more storage buffers than the device
   * allows get the packed layout.
   */
  limits?: Partial<TargetLimits>;
}

/**
 * Creates a wgsl target. Compiling is lazy: the device, the kernels and the pipelines are set up
 * on a program's first run. Runs of one program are queued, because they share its buffers.
 */
export function createWgslTarget(options: WgslTargetOptions = {}): Target {
  const deviceOf = async (): Promise<GPUDevice> => options.device ?? (await sharedDevice()).device;
  return {
    name: 'wgsl',
    compile(graph: Graph, name: string): CompiledProgram {
      let prepared: Promise<WgslProgram> | undefined;
      let queue: Promise<unknown> = Promise.resolve();
      const run = async (feeds: TensorMap): Promise<TensorMap> => {
        // A failed setup is forgotten, so the next run retries it and reports its own error.
        prepared ??= deviceOf()
          .then((device) => WgslProgram.create(device, graph, name, options.limits))
          .catch((error: unknown) => {
            prepared = undefined;
            throw error;
          });
        const program = await prepared;
        return program.run(feeds);
      };
      return {
        graph,
        run(feeds: TensorMap): Promise<TensorMap> {
          const result = queue.then(() => run(feeds));
          queue = result.catch(() => undefined);
          return result;
        },
      };
    },
  };
}
