// Loaders of the GPU target modules, present only when their files exist in this checkout: Vite's
// glob imports match nothing for a missing file, so the page builds and falls back without them.
export type ModuleLoader = () => Promise<Record<string, unknown>>;

const wgsl = import.meta.glob<Record<string, unknown>>('../../targets/wgsl/index.ts');
const webgl = import.meta.glob<Record<string, unknown>>('../../targets/webgl/index.ts');

/** Loader of targets/wgsl/index.ts, or undefined when the file is not in this build. */
export const loadWgslModule: ModuleLoader | undefined = Object.values(wgsl)[0];

/** Loader of targets/webgl/index.ts, or undefined when the file is not in this build. */
export const loadWebglModule: ModuleLoader | undefined = Object.values(webgl)[0];
