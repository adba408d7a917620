// The run tab, present when `sganc serve RUN` serves a run directory: the status line of the newest
// tick, the newest fakes grid and the loss plot, polled from the server so they follow training.
import { formatStatusLine, statusHeader } from '../../../src/runtime/status.ts';
import type { TickRecord } from '../../../src/runtime/train/run-dir.ts';

/** The server's description of the run (GET api/run). */
export interface RunInfo {
  name: string;
  /** model.sgan of the run. */
  model: string;
  /** File name of the newest checkpoint, or null before the first one. */
  checkpoint: string | null;
  /** Modification times in ms, to refresh images only when they change. */
  fakesTime: number | null;
  lossesTime: number | null;
  log: TickRecord[];
}

/** Interval between requests for the run's state, in milliseconds. */
const POLL_MS = 2000;

export async function fetchRun(): Promise<RunInfo | undefined> {
  const response = await fetch('api/run', { cache: 'no-store' });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET api/run failed: ${response.status} ${response.statusText}`);
  return (await response.json()) as RunInfo;
}

export async function fetchRunFile(name: string): Promise<Uint8Array> {
  const response = await fetch(`api/run/files/${encodeURIComponent(name)}`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET ${name} failed: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

function statusOf(record: TickRecord): string {
  return formatStatusLine({
    tick: record.tick,
    kimg: record.kimg,
    resolution: record.resolution,
    alpha: record.alpha,
    secPerTick: record.sec_per_tick,
    secPerKimg: record.sec_per_kimg,
    lossG: record.loss_g,
    lossD: record.loss_d,
    r1: record.r1,
    rssBytes: record.rss_mib * 2 ** 20,
  });
}

export class RunView {
  private lastTick = -1;
  private fakesTime: number | null = null;
  private lossesTime: number | null = null;
  private readonly status: HTMLElement;
  private readonly fakes: HTMLImageElement;
  private readonly losses: HTMLImageElement;
  private readonly summary: HTMLElement;

  constructor(root: HTMLElement, private readonly onCheckpoint: (info: RunInfo) => void) {
    this.status = root.querySelector<HTMLElement>('#run-status')!;
    this.fakes = root.querySelector<HTMLImageElement>('#run-fakes')!;
    this.losses = root.querySelector<HTMLImageElement>('#run-losses')!;
    this.summary = root.querySelector<HTMLElement>('#run-summary')!;
    root.querySelector<HTMLButtonElement>('#run-sample')!.addEventListener('click', () => void this.sampleLatest());
  }

  private latest: RunInfo | undefined;

  show(info: RunInfo): void {
    this.latest = info;
    const last = info.log[info.log.length - 1];
    const lines = [statusHeader(), ...info.log.slice(-8).map(statusOf)];
    this.status.textContent = last === undefined ? 'no tick finished yet' : lines.join('\n');
    const checkpoint = info.checkpoint ?? 'none yet';
    this.summary.textContent = `run ${info.name}: ${info.log.length} ticks, newest checkpoint ${checkpoint}`;
    if (info.fakesTime !== null && info.fakesTime !== this.fakesTime) {
      this.fakesTime = info.fakesTime;
      this.fakes.src = `api/run/files/fakes-latest.png?t=${info.fakesTime}`;
    }
    if (info.lossesTime !== null && info.lossesTime !== this.lossesTime) {
      this.lossesTime = info.lossesTime;
      this.losses.src = `api/run/files/losses.png?t=${info.lossesTime}`;
    }
    this.lastTick = last?.tick ?? -1;
  }

  /** Polls the server every POLL_MS; a failed poll shows its error and polling goes on. */
  startPolling(): void {
    const poll = async (): Promise<void> => {
      try {
        const info = await fetchRun();
        if (info !== undefined && (info.log[info.log.length - 1]?.tick ?? -1) !== this.lastTick) this.show(info);
        else if (info !== undefined) this.latest = info;
      } catch (error) {
        this.summary.textContent = `lost contact with the server: ${(error as Error).message}`;
      }
      setTimeout(() => void poll(), POLL_MS);
    };
    setTimeout(() => void poll(), POLL_MS);
  }

  private async sampleLatest(): Promise<void> {
    const info = this.latest ?? (await fetchRun());
    if (info !== undefined) this.onCheckpoint(info);
  }
}
