import { describe, expect, it } from 'vitest';
import { lineStream, ProgressReporter } from '../src/index.js';

describe('lineStream', () => {
  it('hands complete lines to the logger, holding a partial line until its newline', () => {
    const got: string[] = [];
    const s = lineStream((l) => got.push(l));
    s.write('first\nsec');
    expect(got).toEqual(['first']);
    s.write('ond\n\nthird\n');
    expect(got).toEqual(['first', 'second', 'third']);
    expect(s.isTTY).toBeUndefined();
  });

  it("gives a ProgressReporter in 'auto' mode lines, one per tenth of an epoch, and its epoch lines", () => {
    const got: string[] = [];
    let now = 0;
    const p = new ProgressReporter(
      lineStream((l) => got.push(l)),
      'auto',
      () => now,
    );
    p.startEpoch(1, 2, 20);
    for (let b = 1; b <= 20; b++) {
      now += 10;
      p.update(b, 64, 1 / b);
    }
    p.line('epoch 1/2 done');
    // Lines after batches 2, 4, …, 18 (not after the last batch), then the epoch line; no bar control codes.
    expect(got).toHaveLength(10);
    expect(got[0]).toMatch(/^ {2}epoch 1\/2 2\/20 loss 0\.5000 /);
    expect(got[9]).toBe('epoch 1/2 done');
    for (const l of got) expect(l.includes('\r') || l.includes('\u001b')).toBe(false);
  });
});
