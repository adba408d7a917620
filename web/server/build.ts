// Builds the playground with Vite into web/dist, and checks whether an existing build is older than
// the sources it bundles.
import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = fileURLToPath(new URL('..', import.meta.url));
export const repoDir = join(webDir, '..');
export const distDir = join(webDir, 'dist');

/** Folders whose files end up in the bundle; a newer file in any of them makes the build stale. */
const SOURCE_DIRS = ['web/src', 'web/index.html', 'web/vite.config.ts', 'src', 'grammar', 'stdlib', 'examples', 'targets'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Returns whether web/dist is missing or older than one of the files it is built from. */
export function buildIsStale(): boolean {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCE_DIRS.some((dir) => newestMtime(join(repoDir, dir)) > built);
}

export interface BuildOptions {
  /** Bundle targets/wgsl and targets/webgl when present (default true). */
  gpuTargets?: boolean;
  /** Print Vite's output; otherwise only errors. */
  verbose?: boolean;
}

/** A build lock older than this belongs to a process that died mid-build, so it is taken over. */
const STALE_LOCK_MS = 5 * 60_000;

/**
 * Runs Vite's build with web/vite.config.ts into a temporary folder, then swaps it in for web/dist,
 * so a server that reads web/dist meanwhile reads the old build or the new one, never half of one.
 */
export async function buildWebApp(options: BuildOptions = {}): Promise<void> {
  const { build } = await import('vite');
  const alias =
    options.gpuTargets === false ? [{ find: /^(.*\/)?target-modules\.ts$/, replacement: join(webDir, 'src', 'target-modules-none.ts') }] : [];
  const staging = `${distDir}.tmp-${process.pid}`;
  try {
    await build({
      configFile: join(webDir, 'vite.config.ts'),
      logLevel: options.verbose === true ? 'info' : 'error',
      resolve: { alias },
      build: { outDir: staging, emptyOutDir: true },
    });
    const old = `${distDir}.old-${process.pid}`;
    if (existsSync(distDir)) renameSync(distDir, old);
    renameSync(staging, distDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Runs `work` while holding web/dist.lock, so that two processes (a server and a test, say) never
 * build at the same time. A process that finds the lock taken waits for it.
 */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = `${distDir}.lock`;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Builds web/dist when it is missing or stale, or always with `force`. Returns a note for the user
 * when it built, and undefined when the build was up to date. A GPU target that fails to bundle (its
 * code may be mid-change) does not stop the app, because the app is then built without the GPU
 * targets and the note states that.
 */
export async function ensureWebApp(options: BuildOptions & { force?: boolean } = {}): Promise<string | undefined> {
  return withBuildLock(async () => {
    // Checked under the lock, so a build that another process just finished counts.
    if (options.force !== true && !buildIsStale()) return undefined;
    if (options.gpuTargets === false) {
      await buildWebApp(options);
      return 'built the web app into web/dist without the GPU targets';
    }
    try {
      await buildWebApp(options);
      return 'built the web app into web/dist';
    } catch (error) {
      const message = (error as Error).message;
      if (!/targets[\\/](wgsl|webgl)[\\/]/.test(message)) throw error;
      await buildWebApp({ ...options, gpuTargets: false });
      return `built the web app into web/dist without the GPU targets, because they failed to bundle:\n${message.trim()}`;
    }
  });
}
