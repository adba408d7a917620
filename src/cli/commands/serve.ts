// `sganc serve`: serves the browser playground on loopback, and with a run directory the run's live
// progress and its newest checkpoint for sampling.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureWebApp } from '../../../web/server/build.ts';
import { startServer } from '../../../web/server/http.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const serveHelp = `Usage: sganc serve [RUN] [--port N] [--host ADDRESS]

Serves the playground web app: an editor for .sgan models with live diagnostics, the graph of each
network, the generated kernels and a sampler for checkpoints. With a run directory RUN it also shows
the run's progress (status line, newest fakes grid, loss plot, refreshed every 2 seconds) and samples
from its newest checkpoint. The app is built into web/dist on first use and again when its sources
change. Stop the server with Ctrl-C.

Options:
  --port N          TCP port, 0 for any free port (default 8380)
  --host ADDRESS    address to listen on (default 127.0.0.1, reachable from this machine only)
  --rebuild         build the app even when web/dist is up to date
  -h, --help        print this help`;

const DEFAULT_PORT = 8380;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function serveCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        rebuild: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${serveHelp}\n`);
    return 0;
  }
  if (positionals.length > 1) return usageError(`expected at most one run directory, got ${positionals.length} arguments`);
  const port = Number(values.port ?? DEFAULT_PORT);
  const portValid = values.port?.trim() !== '' && Number.isInteger(port) && port >= 0 && port <= 65535;
  if (!portValid) return usageError(`--port must be an integer in [0, 65535], got '${values.port}'`);
  // Node listens on every interface for an empty host, which an empty value never means.
  if (values.host.trim() === '') return usageError('--host must not be empty; omit it to listen on 127.0.0.1');

  const runDir = positionals[0];
  if (runDir !== undefined) {
    if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
      process.stderr.write(`sganc serve: run directory ${runDir} not found\n`);
      return 1;
    }
    if (!existsSync(join(runDir, 'model.sgan'))) {
      process.stderr.write(`sganc serve: ${runDir} has no model.sgan, so it is not a run directory of sganc train\n`);
      return 1;
    }
  }
  if (!LOOPBACK.has(values.host)) {
    process.stderr.write(`sganc serve: note: listening on ${values.host}, so other machines can reach the server\n`);
  }

  try {
    const note = await ensureWebApp({ force: values.rebuild });
    if (note !== undefined) process.stdout.write(`${note}\n`);
  } catch (error) {
    process.stderr.write(`sganc serve: building the web app failed: ${(error as Error).message}\n`);
    return 1;
  }

  let server;
  try {
    server = await startServer({
      host: values.host,
      port,
      ...(runDir === undefined ? {} : { runDir }),
      log: (line) => process.stderr.write(`sganc serve: ${line}\n`),
    });
  } catch (error) {
    process.stderr.write(`sganc serve: cannot listen on ${values.host}:${port}: ${(error as Error).message}\n`);
    return 1;
  }
  const served = runDir === undefined ? 'the playground' : `the playground and run ${runDir}`;
  process.stdout.write(`serving ${served} at ${server.url} (Ctrl-C stops)\n`);

  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('server stopped\n');
  return 0;
}

function usageError(message: string): number {
  return reportUsageError('serve', message);
}
