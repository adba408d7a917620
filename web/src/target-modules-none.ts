// Stand-in for target-modules.ts in a build without the GPU targets, which `sganc serve` makes when
// those targets fail to bundle. The page then samples with the TypeScript executor.
import type { ModuleLoader } from './target-modules.ts';

export type { ModuleLoader };

export const loadWgslModule: ModuleLoader | undefined = undefined;

export const loadWebglModule: ModuleLoader | undefined = undefined;
