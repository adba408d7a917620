/// <reference types="@webgpu/types" />
// WebGPU adapter and device selection. In a browser it is navigator.gpu. In Node it is the `webgpu`
// package (Dawn): the default adapter first, then Dawn's OpenGL ES backend, which runs on Mesa's
// llvmpipe where no GPU driver exists. The Node file is loaded by a dynamic import so that browser
// bundles of this target never contain it.

/** No WebGPU adapter was found. The message lists where the target looked. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** A device with a description of the adapter behind it. */
export interface WgslDevice {
  device: GPUDevice;
  /** Vendor, architecture and device as the adapter reports them, and the backend. */
  description: string;
  /** False for software adapters (llvmpipe, SwiftShader, lavapipe, fallback adapters). */
  hardware: boolean;
}

/** An adapter found by the platform-specific search, with a description of how it was reached. */
export interface FoundAdapter {
  adapter: GPUAdapter;
  backend: string;
}

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

/** Describes an adapter from its info, which implementations fill in to different degrees. */
export function describeAdapter(found: FoundAdapter): { description: string; hardware: boolean } {
  const info = found.adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((part) => part !== undefined && part !== '');
  const name = parts.length === 0 ? 'unnamed adapter' : [...new Set(parts)].join(' ');
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const hardware = !fallback && !SOFTWARE_ADAPTERS.test(name);
  return { description: `${name} (${found.backend}${hardware ? '' : ', software'})`, hardware };
}

/**
 * Finds an adapter: navigator.gpu in a browser, the `webgpu` package in Node. Returns null when
 * there is none, or when SGAN_NO_WEBGPU=1 hides WebGPU from Node (to test the cpu fallback).
 */
export async function findAdapter(): Promise<FoundAdapter | null> {
  if (typeof process !== 'undefined' && process.env?.SGAN_NO_WEBGPU === '1') return null;
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu !== undefined) {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter === null ? null : { adapter, backend: 'navigator.gpu' };
  }
  if (typeof process === 'undefined' || process.versions?.node === undefined) return null;
  const { findNodeAdapter } = await import('./device-node.ts');
  return findNodeAdapter();
}

/** The limits the kernels may use, requested from the adapter instead of WebGPU's defaults. */
const REQUESTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

let shared: Promise<WgslDevice> | undefined;
let announced = false;

/**
 * Returns the process-wide device, created on first use with the adapter's own limits. Prints the
 * chosen adapter once, to stderr in Node and to the console in a browser. Throws
 * WebGpuUnavailableError when no adapter exists.
 */
export function sharedDevice(): Promise<WgslDevice> {
  shared ??= createDevice().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

async function createDevice(): Promise<WgslDevice> {
  const found = await findAdapter();
  if (found === null && typeof process !== 'undefined' && process.env?.SGAN_NO_WEBGPU === '1') {
    throw new WebGpuUnavailableError('no WebGPU adapter: SGAN_NO_WEBGPU=1 hides WebGPU; unset it or use --target cpu');
  }
  if (found === null) {
    throw new WebGpuUnavailableError(
      'no WebGPU adapter found: navigator.gpu is missing or returned none, or in Node the webgpu package found ' +
        "neither a GPU driver nor Mesa's OpenGL ES (llvmpipe); use --target cpu",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = found.adapter.limits[name];
  const device = await found.adapter.requestDevice({ requiredLimits });
  const { description, hardware } = describeAdapter(found);
  // A lost device fails every later run, so the next program creates a new one.
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') writeStatus(`sganc: WebGPU device lost (${info.reason}): ${info.message}`);
    shared = undefined;
  });
  if (!announced) {
    announced = true;
    writeStatus(`sganc: WebGPU adapter: ${description}`);
  }
  return { device, description, hardware };
}

/** Writes a line to stderr in Node and to the console in a browser. */
function writeStatus(message: string): void {
  if (typeof process !== 'undefined' && process.stderr !== undefined) process.stderr.write(`${message}\n`);
  else console.info(message);
}

/**
 * Returns whether a hardware WebGPU adapter exists, without creating a device. `--target auto`
 * chooses wgsl only then, because the software fallbacks run slower than the cpu target.
 */
export async function hardwareAdapterAvailable(): Promise<boolean> {
  try {
    const inNode = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu === undefined && typeof process !== 'undefined';
    if (inNode) {
      const { mayHaveGpu } = await import('./device-node.ts');
      if (!(await mayHaveGpu())) return false;
    }
    const found = await findAdapter();
    return found !== null && describeAdapter(found).hardware;
  } catch {
    // A webgpu package that fails to load leaves no adapter, so the probe returns false instead of raising.
    return false;
  }
}
