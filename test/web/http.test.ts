// The playground's HTTP server in this process: requests that must fail cleanly without ending it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type RunningServer, startServer } from '../../web/server/http.ts';

describe('playground http server', () => {
  let run: string;
  let server: RunningServer;
  const logged: string[] = [];

  beforeAll(async () => {
    run = mkdtempSync(join(tmpdir(), 'sganc-http-'));
    writeFileSync(join(run, 'model.sgan'), 'model tiny {}\n');
    // A directory with a checkpoint's name passes the name check and the existence check.
    mkdirSync(join(run, 'checkpoint-5.safetensors'));
    server = await startServer({ runDir: run, host: '127.0.0.1', port: 0, log: (line) => logged.push(line) });
  });

  afterAll(async () => {
    await server.close();
    rmSync(run, { recursive: true, force: true });
  });

  it('rejects a run file that is a directory', async () => {
    const response = await fetch(`${server.url}api/run/files/checkpoint-5.safetensors`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('is not a regular file');
  });

  it('rejects malformed percent-encoding with 400', async () => {
    const response = await fetch(`${server.url}api/run/files/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('invalid percent-encoding');
  });

  it('still serves after bad requests', async () => {
    const response = await fetch(`${server.url}api/run/files/model.sgan`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('model tiny {}\n');
    expect(logged).toEqual([]);
  });
});
