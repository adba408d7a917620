// Node-only parts of the webgl target: probing headless-gl and writing the fallback notice. The
// target imports this file dynamically, so browser bundles never see node: modules.

import { createRequire } from 'node:module';

/** Returns the reason headless-gl cannot run here, or undefined when it can create a context. */
export function headlessGlProblem(): string | undefined {
  const require = createRequire(import.meta.url);
  let createContext: (width: number, height: number) => { getExtension(name: string): { destroy(): void } | null } | null;
  try {
    createContext = require('gl') as typeof createContext;
  } catch (error) {
    return `the gl package (headless-gl) could not be loaded: ${(error as Error).message.split('\n')[0]}`;
  }
  const context = createContext(1, 1);
  if (context === null) {
    const display = process.env.DISPLAY;
    return display === undefined || display === ''
      ? 'headless-gl found no X display (DISPLAY is unset); run under xvfb-run -a or start Xvfb'
      : `headless-gl could not create a context on display ${display}`;
  }
  context.getExtension('STACKGL_destroy_context')?.destroy();
  return undefined;
}

let noticeWritten = false;

/** Writes `message` to stderr the first time only. */
export function writeNoticeOnce(message: string): void {
  if (noticeWritten) return;
  noticeWritten = true;
  process.stderr.write(`${message}\n`);
}
