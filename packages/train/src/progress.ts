/**
 * Training progress for people and for programs: a one-line progress bar with loss, throughput and ETA on a
 * terminal (plain lines, every tenth of an epoch, elsewhere), and a JSON-lines log with one object per record.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where progress text goes: a stream with `write`, and `isTTY` when it is a terminal. */
export interface ProgressStream {
  /** Writes text. */
  write(text: string): unknown;
  /** True for a terminal. */
  isTTY?: boolean;
  /** Terminal width in characters. */
  columns?: number;
}

/** How {@link ProgressReporter} shows progress: a bar on a terminal and lines elsewhere (`auto`), always one of them, or nothing. */
export type ProgressStyle = 'auto' | 'bar' | 'lines' | 'none';

/**
 * What shows the progress of training epochs: a {@link ProgressReporter}, or one of the caller's own (e.g. the
 * `ecgnn` CLI's terminal progress bar). The Trainer calls `startEpoch` at each epoch start, `update` after each
 * batch and `line` for its epoch summaries.
 */
export interface ProgressDisplay {
  /** An epoch (1-based display) of `batches` batches begins, resuming at batch `startBatch`. */
  startEpoch(epoch: number, epochs: number, batches: number, startBatch?: number): void;
  /** Batch `batch` (1-based count of batches done this epoch) of `items` items finished, mean loss `loss` so far. */
  update(batch: number, items: number, loss: number): void;
  /** Prints a line of text (ending any bar first). */
  line(text: string): void;
}

/** How progress is shown: a {@link ProgressStyle} of the built-in {@link ProgressReporter}, or a display of one's own. */
export type ProgressMode = ProgressStyle | ProgressDisplay;

/** The display of `mode`: `mode` itself when it is a display, else a {@link ProgressReporter} writing to `stream`. */
export function progressDisplay(stream: ProgressStream, mode: ProgressMode = 'auto'): ProgressDisplay {
  return typeof mode === 'object' ? mode : new ProgressReporter(stream, mode);
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (x: number): string => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

/** Shows the progress of epochs (see the module comment). */
export class ProgressReporter implements ProgressDisplay {
  private readonly bar: boolean;
  private readonly quiet: boolean;
  private epoch = 0;
  private epochs = 0;
  private total = 0;
  private startBatch = 0;
  private startTime = 0;
  private items = 0;
  private lastDraw = 0;
  private nextLine = 0;
  private drawn = false;

  /** `now` returns milliseconds (injectable for tests). */
  constructor(
    private readonly stream: ProgressStream,
    mode: ProgressStyle = 'auto',
    private readonly now: () => number = () => performance.now(),
  ) {
    this.quiet = mode === 'none';
    this.bar = mode === 'bar' || (mode === 'auto' && stream.isTTY === true);
  }

  /** An epoch (1-based display) of `batches` batches begins, resuming at batch `startBatch`. */
  startEpoch(epoch: number, epochs: number, batches: number, startBatch = 0): void {
    this.epoch = epoch;
    this.epochs = epochs;
    this.total = batches;
    this.startBatch = startBatch;
    this.startTime = this.now();
    this.items = 0;
    this.lastDraw = 0;
    this.nextLine = startBatch + Math.max(1, Math.ceil(batches / 10));
  }

  /** Batch `batch` (1-based count of batches done this epoch) finished with mean loss `loss` so far. */
  update(batch: number, items: number, loss: number): void {
    if (this.quiet) return;
    this.items += items;
    const t = this.now();
    const elapsed = (t - this.startTime) / 1000;
    const done = batch - this.startBatch;
    const rate = elapsed > 0 ? this.items / elapsed : 0;
    const eta = done > 0 ? (elapsed / done) * (this.total - batch) : Number.NaN;
    const text =
      `epoch ${this.epoch}/${this.epochs} ${batch}/${this.total} loss ${loss.toFixed(4)} ` +
      `${rate.toFixed(0)} items/s ETA ${clock(eta)}`;
    if (this.bar) {
      if (t - this.lastDraw < 100 && batch < this.total) return;
      this.lastDraw = t;
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - text.length - 4));
      const filled = Math.round((width * batch) / Math.max(1, this.total));
      this.stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\u001b[K`);
      this.drawn = true;
    } else if (batch >= this.nextLine && batch < this.total) {
      this.nextLine += Math.max(1, Math.ceil(this.total / 10));
      this.stream.write(`  ${text}\n`);
    }
  }

  /** Prints a line (ending a bar first). */
  line(text: string): void {
    if (this.quiet) return;
    if (this.drawn) {
      this.stream.write('\r\u001b[K');
      this.drawn = false;
    }
    this.stream.write(`${text}\n`);
  }
}

/**
 * A {@link ProgressStream} that hands each complete line of progress text to `log`, without its newline (empty
 * lines dropped; text after the last newline is held until its newline arrives), for a job that collects
 * progress through its own logger. It is not a terminal, so the `'auto'` mode writes lines, not a bar.
 */
export function lineStream(log: (line: string) => void): ProgressStream {
  let pending = '';
  return {
    write(text: string): void {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') log(line);
    },
  };
}

/** A JSON-lines log: each record one JSON object on its own line, appended as it happens. */
export class JsonlLog {
  /** Creates the log's directory; records are appended to `path` (an existing log is continued). */
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Appends one record. Non-finite numbers are written as strings ("NaN", "Infinity"). */
  write(record: Record<string, unknown>): void {
    const json = JSON.stringify(record, (_k, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    );
    appendFileSync(this.path, `${json}\n`);
  }
}
