import { describe, expect, it } from 'vitest';
import type { EpochRecord } from '../src/index.js';
import { smallRun } from './fixtures/small-run.js';

/**
 * Replays the plateau rule over a history: the epoch (1-based) at which a run watching `pick` (lower is better
 * with mode 'min') with this patience and min-delta stops, or null if it never does.
 */
function plateauStop(
  history: EpochRecord[],
  pick: (h: EpochRecord) => number,
  mode: 'min' | 'max',
  patience: number,
  minDelta: number,
): number | null {
  let best: number | null = null;
  let bad = 0;
  for (const h of history) {
    const v = pick(h);
    const better = best === null || (mode === 'min' ? v < best - minDelta : v > best + minDelta);
    if (better) {
      best = v;
      bad = 0;
    } else if (++bad >= patience) return h.epoch;
  }
  return null;
}

describe('early stopping on its own quantity', () => {
  it('stops on a validation-loss plateau while the best epoch is picked by macro-F1', () => {
    const { trainer } = smallRun(null, {
      epochs: 10,
      monitor: 'subsetMacroF1',
      earlyStopping: { patience: 1, minDelta: 0, monitor: 'loss' },
    });
    const r = trainer.fit();
    const losses = r.history.map((h) => h.valLoss as number);
    // The run stopped exactly where the loss rule says (or ran to the end when the loss kept falling).
    const expected = plateauStop(r.history, (h) => h.valLoss as number, 'min', 1, 0);
    expect(r.stopReason).toBe(expected === null ? 'completed' : 'early-stopping');
    expect(r.history.length).toBe(expected ?? 10);
    expect(losses.every(Number.isFinite)).toBe(true);
    // The kept epoch is the best by the monitor, not by the loss.
    const f1 = r.history.map((h) => h.val?.subsetMacroF1 as number);
    expect(r.bestEpoch).toBe(f1.indexOf(Math.max(...f1)) + 1);
    expect(r.bestValue).toBe(Math.max(...f1));
  });

  it('without its own monitor, watches the monitored value in the monitor mode', () => {
    const { trainer } = smallRun(null, {
      epochs: 10,
      monitor: 'subsetMacroF1',
      earlyStopping: { patience: 1, minDelta: 0 },
    });
    const r = trainer.fit();
    const expected = plateauStop(r.history, (h) => h.monitor as number, 'max', 1, 0);
    expect(r.history.length).toBe(expected ?? 10);
  });
});
