// Failed setup on the wgsl target: neither the device nor a program's setup stays cached after a
// failure, so a later run in the same process retries and succeeds or reports its own error.

/// <reference types="@webgpu/types" />
import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { sharedDevice, WebGpuUnavailableError } from '../../targets/wgsl/device.ts';
import { createWgslTarget } from '../../targets/wgsl/index.ts';

/** Returns a proxy of `device` whose createBuffer throws on the first `failures` calls. */
function failingBuffers(device: GPUDevice, failures: number): GPUDevice {
  let left = failures;
  return new Proxy(device, {
    get(target, property) {
      if (property === 'createBuffer' && left > 0) {
        return () => {
          left--;
          throw new Error('injected createBuffer failure');
        };
      }
      // Native getters and methods need the real device as `this`.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Returns a proxy of `device` whose createBuffer throws on call number `failAt` (from 1), and whose
 * other buffers push their label to `destroyed` when destroyed.
 */
function failingNthBuffer(device: GPUDevice, failAt: number, destroyed: string[]): GPUDevice {
  let calls = 0;
  return new Proxy(device, {
    get(target, property) {
      if (property === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor): GPUBuffer => {
          calls++;
          if (calls === failAt) throw new Error('injected createBuffer failure');
          const buffer = target.createBuffer(descriptor);
          const destroy = buffer.destroy.bind(buffer);
          buffer.destroy = () => {
            destroyed.push(buffer.label);
            destroy();
          };
          return buffer;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('wgsl setup failures', () => {
  it('device retries after no adapter', async () => {
    // Runs first in this file, so no earlier test has created the shared device.
    process.env.SGAN_NO_WEBGPU = '1';
    try {
      await expect(sharedDevice()).rejects.toBeInstanceOf(WebGpuUnavailableError);
    } finally {
      delete process.env.SGAN_NO_WEBGPU;
    }
    const { device } = await sharedDevice();
    expect(device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(4);
  });

  it('program retries after failed setup', async () => {
    const { device } = await sharedDevice();
    const target = createWgslTarget({ device: failingBuffers(device, 1) });
    const b = new Builder();
    const x = b.input('x', [3]);
    b.output('out', b.add(x, x));
    const program = target.compile(b.graph, 'retry');
    const feeds = { x: { shape: [3], data: Float32Array.of(1, -2, 0.5) } };

    await expect(program.run(feeds)).rejects.toThrow('injected createBuffer failure');
    const result = await program.run(feeds);
    expect(Array.from(result.out!.data)).toEqual([2, -4, 1]);
  });

  it('frees arenas made before a failure', async () => {
    const { device } = await sharedDevice();
    const destroyed: string[] = [];
    // The feed arena is the first buffer of a program and the work arena the second.
    const target = createWgslTarget({ device: failingNthBuffer(device, 2, destroyed) });
    const b = new Builder();
    const x = b.input('x', [3]);
    b.output('out', b.mul(x, x));
    const program = target.compile(b.graph, 'partial');
    const feeds = { x: { shape: [3], data: Float32Array.of(1, -2, 0.5) } };

    await expect(program.run(feeds)).rejects.toThrow('injected createBuffer failure');
    expect(destroyed).toEqual(['partial feed arena']);
    const result = await program.run(feeds);
    expect(Array.from(result.out!.data)).toEqual([1, 4, 0.25]);
  });
});
