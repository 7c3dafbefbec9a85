// QRS detector evaluation on all 48 MIT-BIH records against the reference beat annotations.
import { expect, it } from 'vitest';
import {
  detectQrs,
  evaluateQrsDetector,
  formatQrsEvaluation,
  loadRecord,
  QrsDetector,
} from '../src/index.js';
import { describeWithData } from './data-helper.js';

describeWithData('mitdb', 'QRS detector on the MIT-BIH Arrhythmia Database', () => {
  it('reaches Se ≥ 99.5 % and +P ≥ 99.5 % over all 48 records (±150 ms window)', () => {
    const e = evaluateQrsDetector();
    console.log(formatQrsEvaluation(e));
    expect(e.records.length).toBe(48);
    expect(e.total.tp + e.total.fn).toBe(109494); // every reference beat counted
    expect(e.total.sensitivity).toBeGreaterThanOrEqual(99.5);
    expect(e.total.positivePredictivity).toBeGreaterThanOrEqual(99.5);
    expect(e.totalExcludingFlutter.positivePredictivity).toBeGreaterThanOrEqual(99.8);
  });

  it('streaming over a real noisy record (105) in irregular chunks equals the batch detector', () => {
    const rec = loadRecord('mitdb', '105');
    const x = rec.signals[0];
    const batch = Array.from(detectQrs(x, rec.fs));
    const det = new QrsDetector(rec.fs);
    const got: number[] = [];
    let p = 0;
    let k = 0;
    while (p < x.length) {
      const len = 1 + ((k++ * 7919) % 1500);
      got.push(...det.push(x.subarray(p, p + len)));
      p += len;
    }
    got.push(...det.flush());
    expect(got).toEqual(batch);
  });
});
