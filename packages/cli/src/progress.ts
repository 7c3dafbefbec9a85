/**
 * Progress of long work in the CLI: on a terminal, bars drawn by `cli-progress` (one per training epoch, one per
 * downloaded file); elsewhere plain lines through the run's standard error — @ecgnn/train's `ProgressReporter`
 * in its `lines` style for training, @ecgnn/data's lines for downloads. The library stays in the CLI: @ecgnn/train
 * and @ecgnn/data only call the `ProgressDisplay` / `onProgress` hooks they define.
 */
import { ensureDatabase, type FetchProgress } from '@ecgnn/data';
import { lineStream, type ProgressDisplay, ProgressReporter } from '@ecgnn/train';
import { Presets, SingleBar } from 'cli-progress';
import { type CliIo, println, type TerminalStream } from './io.js';

/** Options of the bars: on `stream`, cleared when they stop, cursor hidden while drawing. */
function barOptions(stream: TerminalStream, format: string) {
  // cli-progress types its stream as Node's WritableStream; it only writes to it and reads isTTY/columns.
  const s = stream as unknown as NodeJS.WritableStream;
  return { stream: s, format, hideCursor: true, clearOnComplete: true, etaBuffer: 50, fps: 5 };
}

/**
 * A training-progress display drawing one `cli-progress` bar per epoch on terminal `stream`: batches done,
 * mean loss so far, items per second and ETA. `line` clears the bar, prints the line, and redraws the bar below it
 * while its epoch is not finished, so log lines and the bar do not overwrite each other.
 */
export class TerminalTrainingProgress implements ProgressDisplay {
  private readonly bar: SingleBar;
  private active = false;
  private startTime = 0;
  private startBatch = 0;
  private items = 0;
  private total = 0;
  private value = 0;
  private payload: Record<string, string | number> = {};

  constructor(private readonly stream: TerminalStream) {
    this.bar = new SingleBar(
      barOptions(
        stream,
        'epoch {epoch}/{epochs} [{bar}] {value}/{total} loss {loss} {rate} items/s ETA {eta_formatted}',
      ),
      Presets.shades_classic,
    );
  }

  /** Starts the bar of an epoch (1-based) of `batches` batches, at batch `startBatch` when resuming. */
  startEpoch(epoch: number, epochs: number, batches: number, startBatch = 0): void {
    this.stop();
    this.startTime = performance.now();
    this.startBatch = startBatch;
    this.items = 0;
    this.total = batches;
    this.value = startBatch;
    this.payload = { epoch, epochs, loss: '–', rate: '–' };
    this.bar.start(batches, startBatch, this.payload);
    this.active = true;
  }

  /** Moves the bar to batch `batch`; `loss` is the epoch's mean loss so far. */
  update(batch: number, items: number, loss: number): void {
    if (!this.active) return;
    this.items += items;
    const seconds = (performance.now() - this.startTime) / 1000;
    const rate = seconds > 0 && batch > this.startBatch ? (this.items / seconds).toFixed(0) : '–';
    this.value = batch;
    this.payload = { ...this.payload, loss: loss.toFixed(4), rate };
    this.bar.update(batch, this.payload);
  }

  /** Clears the bar, prints `text` on its own line, and redraws the bar when its epoch is not finished. */
  line(text: string): void {
    const redraw = this.active && this.value < this.total;
    this.stop();
    this.stream.write(`${text}\n`);
    if (redraw) {
      this.bar.start(this.total, this.value, this.payload);
      this.active = true;
    }
  }

  /** Stops (and clears) the bar, if one is drawn. */
  stop(): void {
    if (!this.active) return;
    this.bar.stop();
    this.active = false;
  }
}

/** Training progress of a run, and `close` to call when the run ends (stops a bar still drawn). */
export interface TrainingProgress {
  /** What the experiments pass on to @ecgnn/train's Trainer. */
  display: ProgressDisplay;
  /** The run's log: a line on stderr, printed through the display so that it does not break a bar. */
  log(line: string): void;
  /** Ends the display. */
  close(): void;
}

/**
 * The training progress of a run writing to `io`: `cli-progress` bars when its standard error is a terminal,
 * else @ecgnn/train's progress lines (every tenth of an epoch) through `io.err`; nothing with `quiet`.
 */
export function trainingProgress(io: CliIo, quiet = false): TrainingProgress {
  if (io.tty && !quiet) {
    const display = new TerminalTrainingProgress(io.tty);
    return { display, log: (line) => display.line(line), close: () => display.stop() };
  }
  const display = new ProgressReporter(
    lineStream((line) => println(io.err, line)),
    quiet ? 'none' : 'lines',
  );
  return { display, log: (line) => println(io.err, line), close: () => undefined };
}

/** Download progress on a terminal: the callback @ecgnn/data calls as bytes arrive, and `close` (ends a bar). */
export interface DownloadProgress {
  /** Called by @ecgnn/data's downloads. */
  onProgress(p: FetchProgress): void;
  /** Stops a bar still drawn (a file whose size the server did not say, a failed download). */
  close(): void;
}

/**
 * The download progress of a run writing to `io`: one `cli-progress` bar per file (megabytes) when its standard
 * error is a terminal; undefined elsewhere, so @ecgnn/data writes its progress lines through the log.
 */
export function downloadProgress(io: CliIo): DownloadProgress | undefined {
  const tty = io.tty;
  if (!tty) return undefined;
  const bar = new SingleBar(barOptions(tty, '{file} [{bar}] {value}/{size} MB'), Presets.shades_classic);
  let file = '';
  const mb = (bytes: number): number => Math.round(bytes / 1e4) / 100;
  const close = (): void => {
    if (file !== '') bar.stop();
    file = '';
  };
  return {
    onProgress: (p) => {
      // Without a size from the server the bar stays empty and the size reads '?'.
      const total = p.total === undefined ? 0 : mb(p.total);
      const payload = { file: p.file, size: p.total === undefined ? '?' : total };
      if (p.file !== file) {
        close();
        file = p.file;
        bar.start(total, mb(p.received), payload);
      }
      bar.update(mb(p.received), payload);
      if (p.total !== undefined && p.received >= p.total) {
        close();
        tty.write(`  ${p.file}: ${total} MB\n`);
      }
    },
    close,
  };
}

/**
 * @ecgnn/data's `ensureDatabase` with the run's download progress: database `db` in `dataDir`, downloaded when
 * absent (unless `download` is false), progress lines or bars on the run's stderr.
 */
export async function ensureDatabaseWithProgress(
  io: CliIo,
  db: string,
  dataDir: string,
  download: boolean,
): Promise<boolean> {
  const bars = downloadProgress(io);
  try {
    return await ensureDatabase(db, dataDir, {
      download,
      log: (line) => println(io.err, line),
      onProgress: bars?.onProgress,
    });
  } finally {
    bars?.close();
  }
}
