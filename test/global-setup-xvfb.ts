// Gives the headless-gl tests an X display. When DISPLAY is unset and Xvfb is installed, this starts
// `Xvfb :N` on a free display number before the test workers start (they inherit DISPLAY) and stops
// it by its pid afterwards. Without Xvfb nothing starts, and the headless-gl tests skip with the reason.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const XVFB = '/usr/bin/Xvfb';
const SOCKET_DIR = '/tmp/.X11-unix';
const STARTUP_TIMEOUT_MS = 10_000;

let server: ChildProcess | undefined;

/** Returns the first display number from 90 up that has neither a socket nor a lock file. */
function freeDisplay(): number {
  for (let n = 90; n < 190; n++) {
    if (!existsSync(`${SOCKET_DIR}/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  }
  throw new Error('no free X display number in :90 to :189 for Xvfb');
}

export async function setup(): Promise<void> {
  if (process.env.DISPLAY !== undefined && process.env.DISPLAY !== '') return;
  if (!existsSync(XVFB)) {
    process.env.SGAN_XVFB_MISSING = `${XVFB} is not installed`;
    return;
  }
  const display = freeDisplay();
  const child = spawn(XVFB, [`:${display}`, '-screen', '0', '64x64x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  server = child;
  const exited = new Promise<string>((resolve) => child.once('exit', (code) => resolve(`Xvfb exited with status ${code}`)));
  const started = (async (): Promise<string | undefined> => {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (existsSync(`${SOCKET_DIR}/X${display}`)) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return `Xvfb did not create ${SOCKET_DIR}/X${display} within ${STARTUP_TIMEOUT_MS} ms`;
  })();
  const problem = await Promise.race([started, exited]);
  if (problem !== undefined) {
    teardown();
    process.env.SGAN_XVFB_MISSING = problem;
    return;
  }
  process.env.DISPLAY = `:${display}`;
}

export function teardown(): void {
  if (server?.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  server = undefined;
}
