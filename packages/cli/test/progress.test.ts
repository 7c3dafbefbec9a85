// Progress of long work: cli-progress bars when standard error is a terminal (a fake terminal stream here),
// @ecgnn/train's progress lines / @ecgnn/data's download lines otherwise, and the Trainer driving the CLI's
// display through its ProgressDisplay hook.
import { Generator, nn, optim } from '@ecgnn/core';
import { DataLoader, Trainer } from '@ecgnn/train';
import { describe, expect, it } from 'vitest';
import { type CliIo, downloadProgress, TerminalTrainingProgress, trainingProgress } from '../src/index.js';

/** A terminal-like stream recording what is written. */
function fakeTty(): NodeJS.WriteStream & { text: string } {
  const s = {
    text: '',
    isTTY: true,
    columns: 120,
    rows: 40,
    write(chunk: string) {
      s.text += chunk;
      return true;
    },
    cursorTo(_x: number, _y?: number, cb?: () => void) {
      cb?.();
      return true;
    },
    clearLine(_d: number, cb?: () => void) {
      cb?.();
      return true;
    },
    moveCursor(_dx: number, _dy: number, cb?: () => void) {
      cb?.();
      return true;
    },
    on() {
      return s;
    },
    removeListener() {
      return s;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

/** An io capturing stderr, with `tty` when given. */
function io(tty?: NodeJS.WriteStream): CliIo & { errText: () => string } {
  let err = '';
  return { out: () => {}, err: (t) => (err += t), tty, errText: () => err };
}

describe('training progress', () => {
  it('not a terminal: progress lines every tenth of an epoch through stderr', () => {
    const o = io();
    const p = trainingProgress(o);
    p.display.startEpoch(1, 2, 20);
    for (let b = 1; b <= 20; b++) p.display.update(b, 8, 1 / b);
    p.display.line('epoch 1/2 done');
    p.close();
    const lines = o.errText().trimEnd().split('\n');
    expect(lines.length).toBe(10);
    expect(lines[0]).toMatch(/^ {2}epoch 1\/2 2\/20 loss 0\.5000 /);
    expect(lines.at(-1)).toBe('epoch 1/2 done');
  });

  it('a terminal: a cli-progress bar with epoch, batches and loss, cleared before a line', () => {
    const tty = fakeTty();
    const o = io(tty);
    const p = trainingProgress(o);
    expect(p.display).toBeInstanceOf(TerminalTrainingProgress);
    p.display.startEpoch(2, 3, 50, 10);
    for (let b = 11; b <= 50; b++) p.display.update(b, 4, 0.25);
    p.display.line('epoch 2/3 done');
    p.close();
    expect(tty.text).toMatch(/epoch 2\/3 \[[^\]]+\] \d+\/50 loss 0\.2500/);
    expect(tty.text).toContain('50/50');
    expect(tty.text.endsWith('epoch 2/3 done\n')).toBe(true);
    expect(o.errText()).toBe('');
  });

  it('a log line mid-epoch clears the bar, prints, and redraws the bar below it; not after the last batch', () => {
    const tty = fakeTty();
    const p = trainingProgress(io(tty));
    p.display.startEpoch(1, 1, 40);
    p.display.update(10, 4, 0.5);
    p.log('checkpoint written');
    const after = tty.text.slice(tty.text.indexOf('checkpoint written\n'));
    expect(after).toMatch(/epoch 1\/1 \[[^\]]+\] 10\/40 loss 0\.5000/);
    p.display.update(40, 4, 0.4);
    p.log('epoch done');
    expect(tty.text.endsWith('epoch done\n')).toBe(true);
    p.close();
  });

  it('the Trainer draws through the display it is given (no bar or line of its own on stderr)', () => {
    const tty = fakeTty();
    const p = trainingProgress(io(tty));
    const g = new Generator(1);
    const data = {
      count: 32,
      inputs: [{ name: 'window', shape: [4], data: Float32Array.from({ length: 128 }, () => g.random()) }],
      label: Int32Array.from({ length: 32 }, (_, i) => i % 2),
      classes: ['a', 'b'],
      group: Array.from({ length: 32 }, () => 'r'),
      preprocessing: null,
      description: 'random',
    };
    const model = new nn.Linear(4, 2, { generator: g });
    const trainer = new Trainer({
      model,
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      train: new DataLoader(data, { batchSize: 8, sampler: { kind: 'shuffled' }, seed: 1 }),
      epochs: 2,
      progress: p.display,
    });
    trainer.fit();
    p.close();
    expect(tty.text).toMatch(/epoch 1\/2 \[[^\]]+\] 4\/4 loss/);
    expect(tty.text).toMatch(/epoch 2\/2 \[/);
  });
});

describe('download progress', () => {
  it('not a terminal: none (the data layer writes its lines through the log)', () => {
    expect(downloadProgress(io())).toBeUndefined();
  });

  it('a terminal: a bar per file in MB, and a line when the file is complete', () => {
    const tty = fakeTty();
    const download = downloadProgress(io(tty));
    if (!download) throw new Error('no callback on a terminal');
    for (const received of [0, 500_000, 1_000_000, 1_950_000])
      download.onProgress({ file: '100.dat', received, total: 1_950_000 });
    download.onProgress({ file: '100.atr', received: 4_000, total: undefined });
    download.close();
    expect(tty.text).toMatch(/100\.dat \[[^\]]+\] 0\/1\.95 MB/);
    expect(tty.text).toMatch(/100\.dat \[[^\]]+\] 1\.95\/1\.95 MB/);
    expect(tty.text).toContain('  100.dat: 1.95 MB\n');
    expect(tty.text).toMatch(/100\.atr \[[^\]]+\] 0\/\? MB/);
  });
});
