// SGAN_DEBUG output of the optimizer, written to stderr:
//   1  each pass with its time and node count, and kernel counts after fusion
//   2  also the kernel list, one header line per kernel
//   3  also the IR after each pass
//   4  also every kernel's expressions
// SGAN_DEBUG_KERNEL=substring limits the level-4 output to kernels whose name contains it. Any
// level also runs the IR verifier after every pass.

/** Returns an environment variable, or undefined where there is no `process` (a browser page). */
function environment(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}

/** Returns the debug level from SGAN_DEBUG: 0 when unset, empty or not a number. */
export function debugLevel(): number {
  const value = Number.parseInt(environment('SGAN_DEBUG') ?? '', 10);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Returns whether level-4 output covers the kernel `name` under SGAN_DEBUG_KERNEL. */
export function kernelSelected(name: string): boolean {
  const filter = environment('SGAN_DEBUG_KERNEL');
  return filter === undefined || filter === '' || name.includes(filter);
}

/** Writes one debug line to stderr. */
export function debugWrite(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
