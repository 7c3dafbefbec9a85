/** Matching served beats to labelled reference beats (no data needed). */
import { matchBeats } from '@ecgnn/data';
import { describe, expect, test } from 'vitest';
import { busiestWindow, matchLabelledBeats } from '../src/serve.js';

describe('matchLabelledBeats', () => {
  const classes = ['N', 'S', 'V'];
  test('counts reference, matched, correct and predicted beats per class', () => {
    // Reference: N at 100, S at 400, V at 700, N at 1000; detections near the first three and one extra.
    const r = matchLabelledBeats(
      [100, 400, 700, 1000],
      [0, 1, 2, 0],
      [90, 420, 760, 1300],
      [0, 0, 2, 1],
      54,
      classes,
    );
    expect(r.matched).toBe(2); // 760 is 60 samples from 700 (> 54); 1300 matches nothing
    expect(r.perClass).toEqual({
      N: { reference: 2, matched: 1, correct: 1, predicted: 2 },
      S: { reference: 1, matched: 1, correct: 0, predicted: 1 },
      V: { reference: 1, matched: 0, correct: 0, predicted: 1 },
    });
  });

  test('matches the same pairs as @ecgnn/data matchBeats', () => {
    const ref: number[] = [];
    const det: number[] = [];
    let t = 0;
    let s = 12345;
    const rnd = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s / 2 ** 32;
    };
    for (let i = 0; i < 500; i++) {
      t += 150 + Math.floor(300 * rnd());
      ref.push(t);
      if (rnd() < 0.95) det.push(t + Math.round((rnd() - 0.5) * 140));
      if (rnd() < 0.03) det.push(t + 120);
    }
    det.sort((a, b) => a - b);
    const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 3);
    const mine = matchLabelledBeats(ref, labels(ref.length), det, labels(det.length), 54, classes);
    expect(mine.matched).toBe(matchBeats(ref, det, 54).tp);
  });
});

describe('busiestWindow', () => {
  test('picks the earliest window holding the most rare beats', () => {
    // Rare beats (label ≠ 0) at 150, 420, 450; windows of 100 samples starting on multiples of 50.
    const samples = [10, 150, 300, 420, 450, 600];
    const labels = [0, 1, 0, 2, 1, 0];
    expect(busiestWindow(samples, (i) => labels[i] !== 0, 700, 100, 50)).toBe(400);
    expect(busiestWindow(samples, () => false, 700, 100, 50)).toBe(0);
    // A record shorter than the window: the window starts at 0.
    expect(busiestWindow(samples, () => true, 50, 100, 50)).toBe(0);
  });
});
