// The HTTP server of `sganc serve`: the built playground from web/dist, and with a run directory a
// small JSON API over the run's files so the page can follow training and sample its checkpoints.
//
//   GET api/run               run name, model text, newest checkpoint, image times, log records
//   GET api/run/files/NAME    one file of the run: a checkpoint, fakes-latest.png, losses.png,
//                             reals.png or model.sgan
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';

import { findLatestCheckpoint } from '../../src/runtime/checkpoint.ts';
import type { TickRecord } from '../../src/runtime/train/run-dir.ts';
import { distDir } from './build.ts';

/** Log records sent per request; the page shows the newest few and the loss plot covers the rest. */
const MAX_LOG_RECORDS = 500;

/** Run files the API serves; nothing else in the run directory is reachable. */
const RUN_FILE = /^(checkpoint-\d+(?:\.\d+)?\.safetensors|fakes-latest\.png|losses\.png|reals\.png|model\.sgan)$/;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.sgan': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

export interface ServeOptions {
  /** A training run directory to show and sample from. */
  runDir?: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Receives one line per start, stop and failed request. */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Reads log.jsonl, skipping a last line that the trainer is still writing. */
function readLog(runDir: string): TickRecord[] {
  const path = join(runDir, 'log.jsonl');
  if (!existsSync(path)) return [];
  const records: TickRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as TickRecord);
    } catch {
      // Only a partly written last line fails to parse; the next poll reads it whole.
    }
  }
  return records.slice(-MAX_LOG_RECORDS);
}

function mtimeOf(path: string): number | null {
  return existsSync(path) ? statSync(path).mtimeMs : null;
}

/** Returns the body of GET api/run. */
export function describeRun(runDir: string): object {
  const latest = findLatestCheckpoint(runDir);
  return {
    name: basename(resolve(runDir)),
    model: readFileSync(join(runDir, 'model.sgan'), 'utf8'),
    checkpoint: latest === undefined ? null : basename(latest),
    fakesTime: mtimeOf(join(runDir, 'fakes-latest.png')),
    lossesTime: mtimeOf(join(runDir, 'losses.png')),
    log: readLog(runDir),
  };
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

/** Streams a regular file. `log` receives read errors, such as a checkpoint pruned after the stat. */
function sendFile(response: ServerResponse, path: string, log: (line: string) => void): void {
  const stat = statSync(path);
  if (!stat.isFile()) {
    send(response, 404, `${basename(path)} is not a regular file\n`);
    return;
  }
  const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  response.writeHead(200, { 'content-type': type, 'content-length': stat.size, 'cache-control': 'no-cache' });
  // pipe() does not forward a read error, and an unhandled 'error' event would end the process.
  const stream = createReadStream(path);
  stream.on('error', (error) => {
    log(`reading ${path} failed: ${error.message}`);
    response.destroy();
  });
  stream.pipe(response);
}

function handle(request: IncomingMessage, response: ServerResponse, options: ServeOptions, log: (line: string) => void): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, `method ${request.method} is not allowed; the server is read-only\n`);
    return;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    send(response, 400, `invalid percent-encoding in ${url.pathname}\n`);
    return;
  }

  if (path === '/api/run') {
    if (options.runDir === undefined) {
      send(response, 404, JSON.stringify({ error: 'no run directory: start the server as sganc serve RUN' }), 'application/json');
      return;
    }
    send(response, 200, JSON.stringify(describeRun(options.runDir)), 'application/json');
    return;
  }
  if (path.startsWith('/api/run/files/')) {
    const name = path.slice('/api/run/files/'.length);
    const file = options.runDir === undefined ? undefined : join(options.runDir, name);
    if (file === undefined || !RUN_FILE.test(name) || !existsSync(file)) {
      send(response, 404, `run file ${name} not found\n`);
      return;
    }
    sendFile(response, file, log);
    return;
  }

  // Static files of the build; normalize() removes '..' so a request cannot leave web/dist.
  const relative = normalize(path === '/' ? '/index.html' : path).replace(/^[/\\]+/, '');
  const file = join(distDir, relative);
  if (!file.startsWith(distDir + sep) || !existsSync(file) || statSync(file).isDirectory()) {
    send(response, 404, `${path} not found\n`);
    return;
  }
  sendFile(response, file, log);
}

/** Starts the server and resolves once it listens. */
export function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? (() => undefined);
  const server = createServer((request, response) => {
    try {
      handle(request, response, options, log);
    } catch (error) {
      log(`request ${request.method} ${request.url} failed: ${(error as Error).message}`);
      if (!response.headersSent) send(response, 500, `internal error: ${(error as Error).message}\n`);
      else response.destroy();
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const port = (server.address() as AddressInfo).port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      const url = `http://${host}:${port}/`;
      resolvePromise({
        url,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
