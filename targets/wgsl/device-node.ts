/// <reference types="@webgpu/types" />
// The Node side of adapter selection, through the `webgpu` package (Dawn). Loaded only in Node.

import type { FoundAdapter } from './device.ts';

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

/**
 * Returns whether this machine may have a GPU that Dawn's default backend can use. On Linux that
 * needs a DRM render node, an NVIDIA device or WSL's /dev/dxg; elsewhere it is assumed. This lets
 * `--target auto` skip loading Dawn, and the warnings it prints, on machines without a GPU.
 */
export async function mayHaveGpu(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  // A computed specifier, like the webgpu import, keeps bundlers from resolving node:fs.
  const fsName = 'node:fs';
  const fs = (await import(fsName)) as typeof import('node:fs');
  if (fs.existsSync('/dev/nvidia0') || fs.existsSync('/dev/dxg')) return true;
  try {
    return fs.readdirSync('/dev/dri').some((entry) => entry.startsWith('renderD'));
  } catch {
    // No /dev/dri at all: no DRM driver, so no GPU for Vulkan.
    return false;
  }
}

/**
 * Dawn instances whose adapters were handed out. With webgpu 0.6.2, Dawn crashed (segfaults,
 * thread assertions) once an unreferenced instance was garbage-collected while its device was in
 * use, so the instances stay referenced here.
 */
const instances: GPU[] = [];

/**
 * Finds Dawn's default adapter (Vulkan, Metal or D3D12 on a machine with a GPU driver), else its
 * OpenGL ES backend in compatibility mode, which runs on Mesa's llvmpipe when EGL_PLATFORM is
 * surfaceless. Returns null when neither gives an adapter.
 */
export async function findNodeAdapter(): Promise<FoundAdapter | null> {
  // A computed specifier, so that bundlers leave the native package out of browser bundles.
  const packageName = 'webgpu';
  const dawn = (await import(packageName)) as DawnModule;
  // The package's globals (GPUBufferUsage and friends) are what browser code expects to find.
  Object.assign(globalThis, dawn.globals);
  const primaryInstance = dawn.create([]);
  const primary = await primaryInstance.requestAdapter({ powerPreference: 'high-performance' });
  if (primary !== null) {
    instances.push(primaryInstance);
    return { adapter: primary, backend: 'Dawn default backend' };
  }
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const fallbackInstance = dawn.create(['backend=opengles']);
  // featureLevel is newer than the installed @webgpu/types, hence the widened options type.
  const compatibility: GPURequestAdapterOptions & { featureLevel: string } = { featureLevel: 'compatibility' };
  const fallback = await fallbackInstance.requestAdapter(compatibility);
  if (fallback === null) return null;
  instances.push(fallbackInstance);
  return { adapter: fallback, backend: 'Dawn OpenGL ES, compatibility mode' };
}
