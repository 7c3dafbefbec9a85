/**
 * The meta-learning experiment end to end in smoke mode (seeded synthetic problem: classes are two-bump
 * templates plus noise, meta-test classes never seen in training), in-process: SNAIL, ProtoNet and the
 * fine-tuned supervised model trained and evaluated on the same tasks, results rows written to a temporary
 * file (never docs/), and the deployment path (a SNAIL reloaded from its checkpoint classifying new beats from
 * k labelled examples). The two baselines must beat chance (1/3) clearly; SNAIL must at least learn (its
 * training loss falls) — at 60 episodes it is not expected to beat chance, see docs/meta.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { type ResultsRow, sampleTasks, syntheticMetaSplits } from '@ecgnn/train';
import { afterAll, describe, expect, it } from 'vitest';
import { fewShotClassify, loadSnail, main, parseOptions, UsageError } from './meta.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-meta-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('examples/meta.ts', () => {
  it('flags: defaults, bad values and --record without the meta-test are usage errors', () => {
    expect(parseOptions(['--smoke'])?.methods).toEqual(['snail', 'protonet', 'finetune']);
    expect(() => parseOptions(['--groups', 'x'])).toThrow(UsageError);
    expect(() => parseOptions(['--validation-only', '--record', 'r.json'])).toThrow(UsageError);
    expect(parseOptions(['--help'])).toBeNull();
  });

  it('smoke run: baselines beat chance, SNAIL learns, rows and the deployment path work', async () => {
    const out = join(tmp, 'run');
    const rowsFile = join(tmp, 'results.json');
    const report = await main(['--smoke', '--out', out, '--record', rowsFile], {
      log: () => {},
      progress: 'none',
    });
    expect(report).not.toBeNull();
    const test = report!.test!;
    for (const m of ['protonet', 'finetune'] as const) expect(test[m]![0].accuracy).toBeGreaterThan(0.6);
    const h = report!.training.snail!.history;
    expect(h[h.length - 1].loss).toBeLessThan(h[0].loss);
    const rows = JSON.parse(readFileSync(rowsFile, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id).sort()).toEqual([
      'meta/finetune-3way-2shot',
      'meta/protonet-3way-2shot',
      'meta/snail-3way-2shot',
    ]);
    for (const r of rows) {
      expect(r.method).toBe('meta');
      expect(r.ci95 as number).toBeGreaterThan(0);
      expect(r.dataset).toBe('synthetic');
    }
    // deployment: reload the chosen SNAIL and classify new beats from k labelled examples per class
    const snail = loadSnail(join(out, 'checkpoints', 'snail-best.ckpt'));
    const set = syntheticMetaSplits(new Generator(99)).test;
    const [task] = sampleTasks(set, { ways: 3, shots: 2 }, 3, 1, new Generator(4));
    const beat = (i: number): Float32Array => set.x.slice(i * set.length, (i + 1) * set.length);
    const pred = fewShotClassify(
      snail,
      [...task.support].map(beat),
      [...task.supportLabels],
      [...task.queries].map(beat),
    );
    expect(pred).toHaveLength(9);
    for (const p of pred) expect([0, 1, 2]).toContain(p);
  }, 120_000);
});
