// Console output of a training run. Each tick prints one fixed-width status line on stdout, so that
// columns line up in a terminal and in a redirected log. A progress bar is drawn on stderr, and only
// when stderr is a terminal.

/** The numbers one tick reports; the same fields go to log.jsonl. */
export interface TickStatus {
  tick: number;
  kimg: number;
  resolution: number;
  /** Fade-in alpha: 1 in a stable phase. */
  alpha: number;
  secPerTick: number;
  secPerKimg: number;
  lossG: number;
  lossD: number;
  r1: number;
  /** Resident set size of this process, in bytes. */
  rssBytes: number;
}

interface Column {
  title: string;
  width: number;
  format: (status: TickStatus) => string;
}

const COLUMNS: Column[] = [
  { title: 'tick', width: 5, format: (s) => String(s.tick) },
  { title: 'kimg', width: 9, format: (s) => s.kimg.toFixed(3) },
  { title: 'res', width: 5, format: (s) => String(s.resolution) },
  { title: 'alpha', width: 6, format: (s) => s.alpha.toFixed(3) },
  { title: 'sec/tick', width: 9, format: (s) => s.secPerTick.toFixed(1) },
  { title: 'sec/kimg', width: 9, format: (s) => s.secPerKimg.toFixed(1) },
  { title: 'loss_g', width: 8, format: (s) => formatLoss(s.lossG) },
  { title: 'loss_d', width: 8, format: (s) => formatLoss(s.lossD) },
  { title: 'r1', width: 8, format: (s) => formatLoss(s.r1) },
  { title: 'rss_mib', width: 8, format: (s) => (s.rssBytes / 2 ** 20).toFixed(0) },
];

function formatLoss(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toExponential(2) : value.toFixed(4);
}

/** Pads or, for an absurd value, keeps the text longer than the column rather than cutting digits. */
function fitColumn(text: string, width: number): string {
  return text.padStart(width);
}

/** Returns the header row that names the columns of {@link formatStatusLine}. */
export function statusHeader(): string {
  return COLUMNS.map((column) => fitColumn(column.title, column.width)).join(' ');
}

/** Formats one tick as a fixed-width row under {@link statusHeader}. */
export function formatStatusLine(status: TickStatus): string {
  return COLUMNS.map((column) => fitColumn(column.format(status), column.width)).join(' ');
}

/** Returns the resident set size of this process in bytes. */
export function residentBytes(): number {
  return process.memoryUsage.rss();
}

/**
 * A one-line progress bar for the current tick, redrawn with `\r` on stderr. It draws nothing unless
 * the stream is a terminal, so logs and pipes get only the status lines.
 */
export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private lastDrawMs = 0;
  private drawn = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.enabled = stream.isTTY === true;
  }

  /** Draws `done` of `total` with a label; redraws at most ten times a second. */
  update(done: number, total: number, label: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDrawMs < 100 && done < total) return;
    this.lastDrawMs = now;

    const width = 30;
    const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    this.stream.write(`\r[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${label}`);
    this.drawn = true;
  }

  /** Erases the bar so that the next status line starts on a clean row. */
  clear(): void {
    if (!this.enabled || !this.drawn) return;
    this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
