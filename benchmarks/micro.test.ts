/**
 * `pnpm bench --micro` end to end on two cheap ops with benchmark.js's shortest budget: rows for both backends,
 * positive means with finite margins, and the wasm output checked against the cpu one before timing.
 */
import { describe, expect, test } from 'vitest';
import { runMicro } from './micro.js';

describe('pnpm bench --micro', () => {
  test('times each op on cpu and wasm with benchmark.js statistics', () => {
    const rows = runMicro(['--micro', '--smoke', '--ops', 'relu,crossEntropy']);
    expect(rows.map((r) => `${r.op} ${r.backend}`)).toEqual([
      'relu fwd+bwd cpu',
      'relu fwd+bwd wasm',
      'crossEntropy fwd+bwd cpu',
      'crossEntropy fwd+bwd wasm',
    ]);
    for (const r of rows) {
      expect(r.meanS).toBeGreaterThan(0);
      expect(Number.isFinite(r.rme)).toBe(true);
      expect(r.samples).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);

  test('unknown ops and options are refused with the list of ops', () => {
    expect(() => runMicro(['--ops', 'softmaxx'])).toThrow(/unknown softmaxx; ops are conv1d/);
    expect(() => runMicro(['--max-time', '0'])).toThrow(/--max-time/);
    expect(() => runMicro(['--fast'])).toThrow(/unknown option --fast/);
  });
});
