/**
 * The distillation experiment end to end in smoke mode (a few records, every 4th beat, 3 epochs per model),
 * in-process: teacher → soft labels → student alone and distilled → export → @ecgnn/infer → results rows
 * (written to a temporary file, never docs/). Needs MIT-BIH: runs when present, fails when CI=true and absent,
 * skips with a message otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDir, findRepoRoot, hasDatabase } from '@ecgnn/data';
import { loadModel } from '@ecgnn/infer';
import {
  DISTILL_MODELS,
  DISTILL_SMOKE,
  type DistillModelName,
  type DistillModelReport,
  type DistillReport,
  distillSettings,
  loadCheckpoint,
  loadDistillData,
  type ResultsRow,
} from '@ecgnn/train';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main, parseOptions, UsageError } from './distill.js';

const present = hasDatabase('mitdb');
const ci = process.env.CI === 'true';
const why = `MIT-BIH not found in ${dataDir()}/mitdb (set ECGNN_DATA or put the data in ../shared/data)`;
if (!present && !ci) console.warn(`examples/distill.test.ts: skipping the smoke runs: ${why}`);

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-distill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('distill options', () => {
  test('defaults and explicit flags', () => {
    const d = parseOptions([]);
    expect(d).toMatchObject({
      smoke: false,
      seed: 0,
      intra: false,
      hardExamples: false,
      sampler: 'weighted',
      stopOn: 'loss',
    });
    expect(d?.temperature).toBe(1);
    expect(d?.form).toBe('patent');
    expect(d?.out.endsWith(join('ecgnn-out', 'distill'))).toBe(true);
    const s = parseOptions([
      '--smoke',
      '--seed',
      '5',
      '--intra',
      '--hard-examples',
      '--temperature',
      '4',
      '--form',
      'hinton',
      '--alpha',
      '0.7',
      '--record',
      'r.json',
    ]);
    expect(s).toMatchObject({ smoke: true, seed: 5, intra: true, hardExamples: true, temperature: 4 });
    expect(s).toMatchObject({ form: 'hinton', alpha: 0.7 });
    expect(s?.out.endsWith('distill-intra')).toBe(true);
    expect(s?.record).toBe(resolve('r.json'));
    expect(parseOptions(['--help'])).toBeNull();
  });

  test('bad flags are UsageErrors naming the flag', () => {
    expect(() => parseOptions(['--seed', 'x'])).toThrow(/--seed/);
    expect(() => parseOptions(['--temperature', '0'])).toThrow(/--temperature/);
    expect(() => parseOptions(['--alpha', '2'])).toThrow(/--alpha/);
    expect(() => parseOptions(['--sampler', 'hard'])).toThrow(/--sampler/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
  });

  test('smoke rows are never recorded into docs/results.json', async () => {
    const docs = resolve(findRepoRoot() ?? process.cwd(), 'docs', 'results.json');
    await expect(main(['--smoke', '--record', docs], { log: () => {} })).rejects.toThrow(/smoke/);
  });

  test('epoch flags override the smoke settings of one model only', () => {
    const s = distillSettings({ smoke: true, teacherEpochs: 7 });
    expect(s.teacherStage).toEqual({ ...DISTILL_SMOKE.teacherStage, epochs: 7 });
    expect(s.studentStage).toEqual(DISTILL_SMOKE.studentStage);
    expect(s.every).toBe(DISTILL_SMOKE.every);
  });
});

const REQUIRED = [
  'id',
  'method',
  'dataset',
  'protocol',
  'split',
  'metrics',
  'params',
  'bytes',
  'inferMsPerSample',
  'seed',
  'command',
  'commit',
  'date',
] as const;

function checkRow(row: ResultsRow, id: string, protocol: string): void {
  for (const k of REQUIRED) expect(row, `${id}.${k}`).toHaveProperty(k);
  expect(row).toMatchObject({
    id,
    method: 'distill',
    dataset: 'mitdb',
    protocol,
    split: 'test (smoke subset)',
  });
  expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(row.command).toContain('examples/distill.ts');
  expect(row.command).toContain('--smoke');
  expect(row.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
  for (const v of [row.metrics.accuracy, row.metrics.macroF1])
    expect(v >= 0 && v <= 1, `${id} fraction ${v}`).toBe(true);
  for (const c of ['N', 'S', 'V', 'F', 'Q']) expect(row.metrics.perClass).toHaveProperty(c);
  expect(Number.isInteger(row.params) && row.params > 0).toBe(true);
  expect(row.bytes).toBeGreaterThan(0);
  expect(row.inferMsPerSample).toBeGreaterThan(0);
}

describe.runIf(present || ci)('distillation, smoke mode', () => {
  let report: DistillReport;
  const get = (name: DistillModelName): DistillModelReport => {
    const m = report.models[name];
    if (m === undefined) throw new Error(`no ${name} in the report`);
    return m;
  };
  const out = join(tmp, 'inter');
  const record = join(tmp, 'results.json');
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true but ${why}`);
    const r = await main(['--smoke', '--out', out, '--record', record, '--seed', '3'], {
      log: () => {},
      progress: 'none',
    });
    if (r === null || !('rows' in r)) throw new Error('main returned no report');
    report = r;
  });

  test('trains, distils, exports and evaluates all three models', () => {
    expect(report.smoke).toBe(true);
    expect(Object.keys(report.models).sort()).toEqual([...DISTILL_MODELS].sort());
    const t = get('teacher');
    const s = get('student-kd');
    expect(s.params).toBeLessThan(t.params);
    expect(s.layers).toBeLessThan(t.layers);
    expect(get('student-alone').config).toEqual(s.config);
    expect(s.distillation).toEqual({ temperature: 1, form: 'patent', alpha: 0.5 });
    expect(existsSync((report.softLabels as { file: string }).file)).toBe(true);
    for (const f of ['report.json', 'report.md']) expect(existsSync(join(out, f))).toBe(true);
  });

  test('each kept epoch is the best by validation macro-F1 (the test split chose nothing)', () => {
    for (const name of DISTILL_MODELS) {
      const { result } = get(name).training;
      const best = Math.max(...result.history.map((h) => h.val?.subsetMacroF1 ?? Number.NEGATIVE_INFINITY));
      expect(result.history[result.bestEpoch - 1].val?.subsetMacroF1).toBe(best);
      expect(get(name).selectedBy).toMatch(/validation macro-F1/);
      expect(get(name).validation.subsetMacroF1).toBeCloseTo(best, 6);
    }
  });

  test('the models beat the majority-class baseline on the smoke test subset', () => {
    const counts = report.data.counts.test;
    // Meaningful: the subset holds beats of a class other than the majority one.
    expect(counts.V + counts.S).toBeGreaterThan(0);
    const base = report.baseline.metrics.subsetMacroF1 as number;
    for (const name of DISTILL_MODELS) {
      const m = get(name).test;
      expect(m.count).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
      expect(m.subsetMacroF1 as number, name).toBeGreaterThan(base);
    }
  });

  test('the distilled student exported to @ecgnn/infer agrees with core', () => {
    for (const name of DISTILL_MODELS) expect(get(name).export.agreement, name).toBe(1);
    const kd = get('student-kd');
    expect(kd.export.maxAbsProbDiff).toBeLessThan(1e-4);
    const bytes = new Uint8Array(readFileSync(kd.export.file));
    expect(bytes.length).toBe(kd.export.bytes);
    const model = loadModel(bytes);
    expect(model.inputs.map((i) => i.name)).toEqual(['window', 'rr']);
    expect(model.metadata.classes).toEqual(['N', 'S', 'V', 'F', 'Q']);
    expect(model.metadata.input.sampleRate).toBe(180);
    expect(model.metadata.windowing).toEqual({ mode: 'beat', before: 45 });
    expect((model.metadata.provenance as Record<string, unknown>).method).toBe('distill');
  });

  test('writes the three rows with the required fields to the results file and results.md', () => {
    const rows = JSON.parse(readFileSync(record, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id).sort()).toEqual([
      'distill/student-alone',
      'distill/student-kd',
      'distill/teacher',
    ]);
    for (const row of rows) {
      checkRow(row, row.id, 'inter-patient DS1/DS2');
      expect(row.seed).toBe(3);
    }
    expect(rows.find((r) => r.id === 'distill/student-kd')).toHaveProperty('gapClosed');
    const md = readFileSync(join(tmp, 'results.md'), 'utf8');
    for (const r of rows) expect(md).toContain(`| ${r.id} |`);
  });

  test('--intra labels its rows intra-patient with -intra ids', async () => {
    const intraRecord = join(tmp, 'intra-results.json');
    await main(['--smoke', '--intra', '--out', join(tmp, 'intra'), '--record', intraRecord], {
      log: () => {},
      progress: 'none',
    });
    const rows = JSON.parse(readFileSync(intraRecord, 'utf8')) as ResultsRow[];
    expect(rows.map((r) => r.id).sort()).toEqual([
      'distill/student-alone-intra',
      'distill/student-kd-intra',
      'distill/teacher-intra',
    ]);
    for (const row of rows) checkRow(row, row.id, 'intra-patient random (patients on both sides)');
  });

  test('--teacher-only trains and reports the teacher alone, its row id naming its sampler', async () => {
    const only = join(tmp, 'teacher-only.json');
    const r = await main(
      [
        '--smoke',
        '--teacher-only',
        '--sampler',
        'shuffled',
        '--stop-on',
        'selection',
        '--out',
        join(tmp, 'only'),
        '--record',
        only,
      ],
      { log: () => {}, progress: 'none' },
    );
    if (r === null || !('rows' in r)) throw new Error('main returned no report');
    expect(Object.keys(r.models)).toEqual(['teacher']);
    expect(r.softLabels).toBeNull();
    expect(r.gapClosed).toBeNull();
    const rows = JSON.parse(readFileSync(only, 'utf8')) as ResultsRow[];
    expect(rows.map((x) => x.id)).toEqual(['distill/teacher-shuffled']);
    expect(rows[0].sampler).toMatch(/^shuffled batches/);
    expect(rows[0].selectedBy).toMatch(/early stopping on a plateau of the validation macro-F1/);
    expect(r.settings.teacherStage.stopOn).toBe('selection');
    checkRow(rows[0], rows[0].id, 'inter-patient DS1/DS2');
  });

  test('a smoke run SIGKILLed mid-training resumes (--resume) to the models of an uninterrupted run', async () => {
    const dir = join(tmp, 'killed');
    const here = dirname(fileURLToPath(import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@ecgnn/source',
        join(here, 'distill.ts'),
        '--smoke',
        '--seed',
        '3',
        '--out',
        dir,
      ],
      { cwd: findRepoRoot() ?? process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    // Kill it once the teacher has written a mid-epoch checkpoint of its second epoch.
    const log = join(dir, 'teacher', 'train.jsonl');
    const deadline = Date.now() + 120_000;
    let killed = false;
    while (Date.now() < deadline && !killed) {
      await new Promise((r) => setTimeout(r, 10));
      if (!existsSync(log)) continue;
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      if (lines.some((l) => (JSON.parse(l) as { type?: string; epoch?: number }).epoch === 1)) {
        child.kill('SIGKILL');
        killed = true;
      }
    }
    await exited;
    expect(killed, `the child never reached the teacher's second epoch: ${stderr}`).toBe(true);
    expect(existsSync(join(dir, 'report.json')), 'killed before the end').toBe(false);
    const resumed = await main(['--smoke', '--seed', '3', '--out', dir, '--resume'], {
      log: () => {},
      progress: 'none',
    });
    if (resumed === null || !('rows' in resumed)) throw new Error('main returned no report');
    // It continued from the killed run's mid-epoch checkpoint, not from scratch.
    const records = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type?: string; step?: number; batch?: number });
    const resume = records.find((x) => x.type === 'resume');
    expect(resume?.step).toBeGreaterThan(0);
    for (const name of DISTILL_MODELS) {
      const a = loadCheckpoint(join(out, name, 'best.ckpt')).model.state;
      const b = loadCheckpoint(join(dir, name, 'best.ckpt')).model.state;
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a))
        expect(Array.from(b[k].data), `${name} ${k}`).toEqual(Array.from(a[k].data));
      expect(resumed.models[name]?.test.accuracy).toBe(get(name).test.accuracy);
    }
  }, 180_000);

  test('the inter-patient test split can be read only once', () => {
    const data = loadDistillData('inter-patient', distillSettings({ smoke: true }), { smoke: true });
    expect(data.records.test.every((r) => !data.records.train.includes(r))).toBe(true);
    data.loadTest();
    expect(() => data.loadTest()).toThrow(/once/);
  });

  test('--estimate times teacher and student epochs without training them', async () => {
    const e = await main(['--smoke', '--estimate'], { log: () => {} });
    if (e === null || !('teacher' in e) || 'rows' in e) throw new Error('no estimate');
    for (const x of [e.teacher, e.student]) {
      expect(x.stepSeconds).toBeGreaterThan(0);
      expect(x.epochSeconds).toBeGreaterThan(x.stepSeconds);
    }
    expect(e.teacher.params).toBeGreaterThan(e.student.params);
  });
});
