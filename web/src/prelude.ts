// Globals that the shared compiler modules read and a browser lacks. Imported first by main.ts, so it
// runs before any of them: modules.ts calls process.cwd() for file names in diagnostics, and
// opt/debug.ts reads process.env.SGAN_DEBUG.
const scope = globalThis as { process?: unknown };
scope.process ??= {
  cwd: () => '/',
  env: {},
  stderr: { write: (text: string) => console.warn(text) },
};

export {};
