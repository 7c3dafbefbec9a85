/**
 * The pipeline's HTML report: one self-contained page (inline CSS and SVG; no script, no external resource) with
 * the stages, every model's size against its macro-F1, the training curves, the confusion matrices, the
 * per-record results of the distilled student and an ECG strip of the served DS2 record with the reference and
 * predicted beat labels. {@link pipelineView} picks what the page shows from a {@link PipelineReport};
 * {@link renderPipelineReport} draws a view (a plain object, so it can be tested on fixed inputs).
 */

import { pct } from '../format.js';
import {
  ecgStrip,
  escapeHtml,
  type LineSeries,
  lineChart,
  PALETTE,
  type ScatterPoint,
  type StripData,
  scatterChart,
} from '../report-svg.js';
import type { ServeSummary } from '../serve.js';
import type { EpochRecord } from '../trainer-options.js';
import { DISTILL_MODELS } from './distill.js';
import type { PipelineModel, PipelineReport, PipelineStageRecord } from './pipeline.js';
import type { PipelineMode } from './pipeline-config.js';

/** Training curve of one model: per epoch, the training loss, validation loss and validation macro-F1. */
export interface CurveView {
  model: string;
  epochs: { epoch: number; trainLoss: number; valLoss: number | null; valF1: number | null }[];
  /** The kept epoch. */
  bestEpoch: number | null;
}

/** A confusion matrix to draw. */
export interface ConfusionView {
  model: string;
  split: string;
  classes: string[];
  /** `matrix[t][p]`: items of true class t predicted as p. */
  matrix: number[][];
  accuracy: number;
  macroF1: number | null;
}

/** One row of the per-record table. */
export interface RecordRowView {
  record: string;
  beats: number;
  accuracy: number;
  macroF1: number | null;
  /** Sensitivity per class (null without beats of the class). */
  se: Record<string, number | null>;
  /** Beats per class. */
  support: Record<string, number>;
}

/** What the HTML report shows (see {@link pipelineView}). */
export interface PipelineView {
  mode: PipelineMode;
  seed: number;
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  dataDir: string;
  stages: PipelineStageRecord[];
  models: PipelineModel[];
  curves: { group: string; series: CurveView[] }[];
  confusions: ConfusionView[];
  perRecord: { model: string; split: string; classes: string[]; rows: RecordRowView[] };
  serve: Omit<ServeSummary, 'strip'> & { model: string; strip: StripData | null };
  /** Sentences shown under the title (what the run is and is not). */
  notes: string[];
}

function curve(model: string, history: readonly EpochRecord[], bestEpoch: number | null): CurveView {
  return {
    model,
    bestEpoch,
    epochs: history.map((e) => ({
      epoch: e.epoch,
      trainLoss: e.trainLoss,
      valLoss: e.valLoss,
      valF1: (e.val?.subsetMacroF1 as number | null | undefined) ?? null,
    })),
  };
}

/** What the report shows of a pipeline run. */
export function pipelineView(r: PipelineReport): PipelineView {
  const d = r.distill;
  const distillCurves = DISTILL_MODELS.flatMap((name) => {
    const m = d.models[name];
    return m ? [curve(name, m.training.result.history, m.training.result.bestEpoch)] : [];
  });
  const bnnCurves = (['binary', 'float'] as const).flatMap((v) => {
    const m = r.binarize.variants[v];
    return m
      ? [
          curve(
            v === 'binary' ? 'binary' : 'float twin',
            m.training.result.history,
            m.training.result.bestEpoch,
          ),
        ]
      : [];
  });
  const confusions: ConfusionView[] = [];
  const testSplit = (what: string): string =>
    `DS2 test${r.mode === 'full' ? '' : ` (${r.mode} subset)`} — ${what}`;
  for (const name of DISTILL_MODELS) {
    const m = d.models[name];
    if (m) confusions.push({ model: name, split: testSplit('beats'), ...confusionOf(m.test) });
  }
  confusions.push({
    model: `ticket (${r.prune.ticket.round.label})`,
    split: testSplit('beats'),
    ...confusionOf(r.prune.ticket.test),
  });
  const bin = r.binarize.variants.binary;
  if (bin) confusions.push({ model: 'binary', split: testSplit('10-s fragments'), ...confusionOf(bin.test) });
  const kd = d.models['student-kd'] ?? d.models.teacher;
  const classes = kd?.test.classes ?? [];
  const { strip, ...served } = r.serve;
  return {
    mode: r.mode,
    seed: r.seed,
    provenance: r.provenance,
    dataDir: r.data.dir,
    stages: r.stages,
    models: r.models,
    curves: [
      { group: 'Distillation (teacher, student alone, distilled student)', series: distillCurves },
      { group: 'Binary network (10-s fragments)', series: bnnCurves },
    ],
    confusions,
    perRecord: {
      model: kd?.id ?? '–',
      split: testSplit('beats per record'),
      classes,
      rows: (kd?.perRecord ?? []).map((g) => ({
        record: g.group,
        beats: g.metrics.count,
        accuracy: g.metrics.accuracy,
        macroF1: g.metrics.subsetMacroF1,
        se: Object.fromEntries(classes.map((c) => [c, g.metrics.perClass[c]?.se ?? null])),
        support: Object.fromEntries(classes.map((c) => [c, g.metrics.perClass[c]?.support ?? 0])),
      })),
    },
    serve: { ...served, strip: strip ?? null },
    notes: [
      `The lottery ticket prunes the ${r.prune.model.name} architecture trained from its initial weights (rewinding); the binary network classifies 10-s fragments, not single beats, so its macro-F1 is over fragments.`,
      'Choices inside each stage (kept epochs, the ticket) were made on validation; each experiment read its test split once, after training.',
    ],
  };
}

function confusionOf(m: {
  classes: string[];
  confusion: number[][];
  accuracy: number;
  subsetMacroF1: number | null;
}): Pick<ConfusionView, 'classes' | 'matrix' | 'accuracy' | 'macroF1'> {
  return { classes: m.classes, matrix: m.confusion, accuracy: m.accuracy, macroF1: m.subsetMacroF1 };
}

const STAGE_COLORS: Record<string, string> = {
  distill: PALETTE[0],
  prune: PALETTE[4],
  binarize: PALETTE[2],
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#f6f7f9;margin:0}
main{max-width:1100px;margin:0 auto;padding:16px 24px 40px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;border-radius:4px;font-weight:600;margin:8px 0}
.meta{color:#555;font-size:13px}.note{color:#444;font-size:13px;margin:4px 0}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:4px 0 8px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#eef0f3}
td.l,th.l{text-align:left}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px 8px}
.cm td{min-width:38px}.cm th.corner{font-weight:normal;font-size:11px;color:#555}
svg{background:#fff;font:11px system-ui,sans-serif}svg .title{font-size:13px;font-weight:600}svg .label{fill:#444}
svg .grid{stroke:#e5e5e5}svg .axis{stroke:#333}svg .point-label{font-size:11px;fill:#333}
svg.strip .paper{fill:#fff8f6}svg.strip .paper-minor{stroke:#f4cfc8;stroke-width:.6}svg.strip .paper-major{stroke:#e79b8e;stroke-width:1}
svg.strip .ecg{stroke:#111;stroke-width:1.1}svg.strip .tick{stroke:#555}
svg.strip .ref{font-weight:600;fill:#1f4e79}svg.strip .pred{font-weight:600;fill:#2e7d32}svg.strip .wrong,svg.strip .miss{fill:#c62828}
`;

/** An HTML table; `align` has one letter per column, `l` left or `r` right (default: the first column left). */
function table(head: readonly string[], rows: readonly (readonly string[])[], align = 'l', cls = ''): string {
  const cell = (tag: string, x: string, i: number): string =>
    `<${tag}${(align[i] ?? 'r') === 'l' ? ' class="l"' : ''}>${x}</${tag}>`;
  return [
    `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h, i) => cell('th', escapeHtml(h), i)).join('')}</tr></thead><tbody>`,
    ...rows.map((r) => `<tr>${r.map((x, i) => cell('td', x, i)).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

function modelsSection(v: PipelineView): string {
  const final = v.models.filter((m) => !m.round);
  const rows = final.map((m) => [
    escapeHtml(m.name),
    escapeHtml(m.stage),
    m.input,
    String(m.params),
    m.bytes === null ? '–' : (m.bytes / 1024).toFixed(1),
    pct(m.validationMacroF1),
    pct(m.testMacroF1),
    pct(m.testAccuracy),
    m.infer ? `${m.infer.items - m.infer.disagreements}/${m.infer.items}` : '–',
    m.infer ? m.infer.maxAbsProbDiff.toExponential(1) : '–',
    m.infer ? m.infer.msPerItem.toFixed(3) : '–',
  ]);
  const plot = (x: (m: PipelineModel) => number | null, xLabel: string, title: string): string => {
    const pts: ScatterPoint[] = [];
    for (const m of v.models) {
      const xv = x(m);
      if (xv === null) continue;
      const color = STAGE_COLORS[m.stage] ?? PALETTE[7];
      const tip = (which: string, y: number | null): string =>
        `${m.name}: ${which} macro-F1 ${pct(y)} %, ${xLabel} ${xv}`;
      if (m.validationMacroF1 !== null)
        pts.push({
          x: xv,
          y: m.validationMacroF1,
          color,
          hollow: true,
          small: m.round,
          title: tip('validation', m.validationMacroF1),
        });
      if (m.testMacroF1 !== null)
        pts.push({
          x: xv,
          y: m.testMacroF1,
          color,
          small: m.round,
          label: m.round ? undefined : m.name,
          title: tip('test', m.testMacroF1),
        });
    }
    const rounds = v.models.filter(
      (m) => m.stage === 'prune' && x(m) !== null && m.validationMacroF1 !== null,
    );
    rounds.sort((a, b) => (x(b) as number) - (x(a) as number));
    return scatterChart(pts, {
      title,
      xLabel,
      yLabel: 'macro-F1 (N, S, V, F)',
      width: 500,
      height: 320,
      yFormat: (y) => `${Math.round(100 * y)} %`,
      lines: [
        {
          color: STAGE_COLORS.prune,
          points: rounds.map((m) => ({ x: x(m) as number, y: m.validationMacroF1 as number })),
        },
      ],
      legend: [
        { label: 'distillation', color: STAGE_COLORS.distill, points: [] },
        { label: 'pruning (rounds)', color: STAGE_COLORS.prune, points: [] },
        { label: 'binary network', color: STAGE_COLORS.binarize, points: [] },
      ],
    });
  };
  return [
    '<h2 id="models">Models: size against macro-F1</h2>',
    '<p class="note">Filled markers: test (DS2) macro-F1; hollow markers: validation macro-F1 (what every choice was made on). Small green markers and the green line: the lottery-ticket rounds (validation), from dense to the most pruned. Hover a marker for its values.</p>',
    '<div class="cards">',
    `<div class="card">${plot((m) => m.params, 'parameters (non-zero, log scale)', 'Parameters vs macro-F1')}</div>`,
    `<div class="card">${plot((m) => (m.bytes === null ? null : m.bytes / 1024), 'model file KB (log scale)', 'File size vs macro-F1')}</div>`,
    '</div>',
    table(
      [
        'model',
        'stage',
        'input',
        'params',
        'KB',
        'val F1 %',
        'test F1 %',
        'test acc %',
        'infer = core',
        'max |Δp|',
        'infer ms/item',
      ],
      rows,
      'lll',
    ),
    '<p class="note">"infer = core": test items on which the exported model file, reloaded in @ecgnn/infer, predicts the same class as the trained @ecgnn/core model.</p>',
  ].join('\n');
}

function curvesSection(v: PipelineView): string {
  const parts = [
    '<h2 id="curves">Training curves</h2>',
    '<p class="note">Per epoch: training loss (solid) and validation loss (dashed); validation macro-F1 over N, S, V, F with the kept epoch ringed.</p>',
  ];
  for (const g of v.curves) {
    if (g.series.length === 0) continue;
    const loss: LineSeries[] = g.series.flatMap((s, i) => [
      {
        label: `${s.model} train`,
        color: PALETTE[i % PALETTE.length],
        points: s.epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })),
      },
      {
        label: `${s.model} val`,
        color: PALETTE[i % PALETTE.length],
        dashed: true,
        points: s.epochs.map((e) => ({ x: e.epoch, y: e.valLoss })),
      },
    ]);
    const f1: LineSeries[] = g.series.map((s, i) => ({
      label: s.model,
      color: PALETTE[i % PALETTE.length],
      points: s.epochs.map((e) => ({ x: e.epoch, y: e.valF1 })),
      mark: s.bestEpoch,
    }));
    parts.push(
      `<h3>${escapeHtml(g.group)}</h3>`,
      '<div class="cards">',
      `<div class="card">${lineChart(loss, { title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy', width: 500 })}</div>`,
      `<div class="card">${lineChart(f1, { title: 'Validation macro-F1', xLabel: 'epoch', yLabel: 'macro-F1', width: 500, yMin: 0, yMax: 1, yFormat: (y) => `${Math.round(100 * y)} %` })}</div>`,
      '</div>',
    );
  }
  return parts.join('\n');
}

function confusionTable(c: ConfusionView): string {
  const max = Math.max(1, ...c.matrix.map((row, t) => Math.max(...row.filter((_, p) => p !== t), 0)));
  const rows = c.matrix.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((x, p) => {
      // Diagonal: green by the row's share; off-diagonal: red by the largest error count.
      const a = p === t ? (total > 0 ? x / total : 0) : x / max;
      const bg =
        p === t
          ? `rgba(46,125,50,${(0.12 + 0.5 * a).toFixed(2)})`
          : x > 0
            ? `rgba(198,40,40,${(0.08 + 0.5 * a).toFixed(2)})`
            : '#fff';
      return `<td style="background:${bg}">${x}</td>`;
    });
    return `<tr><th>${escapeHtml(c.classes[t])}</th>${cells.join('')}<td>${total}</td></tr>`;
  });
  return [
    `<div class="card"><h3>${escapeHtml(c.model)}</h3><div class="meta">${escapeHtml(c.split)}; accuracy ${pct(c.accuracy)} %, macro-F1 ${pct(c.macroF1)} %</div>`,
    '<table class="cm"><thead><tr><th class="corner">true \\ pred</th>',
    ...c.classes.map((x) => `<th>${escapeHtml(x)}</th>`),
    '<th>total</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></div>',
  ].join('');
}

function recordsSection(v: PipelineView): string {
  const p = v.perRecord;
  const shown = p.classes.filter((c) => c !== 'Q');
  const rows = p.rows.map((r) => [
    escapeHtml(r.record),
    String(r.beats),
    pct(r.accuracy),
    pct(r.macroF1),
    ...shown.map((c) => (r.support[c] ? `${pct(r.se[c])} <span class="meta">(${r.support[c]})</span>` : '–')),
  ]);
  return [
    '<h2 id="records">Per-record results</h2>',
    `<p class="note">${escapeHtml(p.model)} on ${escapeHtml(p.split)}: accuracy, macro-F1 over the classes present, and the sensitivity of each class (its beats in brackets).</p>`,
    table(['record', 'beats', 'accuracy %', 'macro-F1 %', ...shown.map((c) => `Se ${c} %`)], rows),
  ].join('\n');
}

function serveSection(v: PipelineView): string {
  const s = v.serve;
  const parts = [
    '<h2 id="serve">A DS2 record end to end</h2>',
    `<p class="note">Record ${escapeHtml(s.record)} (${(s.seconds / 60).toFixed(1)} min of raw MLII at 360 Hz) pushed in one-second chunks through @ecgnn/infer's streaming classifier with the model file of ${escapeHtml(s.model)}: its own QRS detection, resampling, z-scored beat windows and RR features. ${s.detectedBeats} beats detected in ${s.computeSeconds.toFixed(1)} s; ${s.matched} of ${s.referenceBeats} reference beats matched within ${s.toleranceMs} ms, ${pct(s.accuracy)} % of them labelled as annotated.</p>`,
  ];
  if (s.strip) {
    const t0 = s.strip.start / s.strip.fs;
    const t1 = t0 + s.strip.samples.length / s.strip.fs;
    parts.push(
      `<div class="card">${ecgStrip(s.strip, { title: `Record ${s.record}, ${t0.toFixed(0)}–${t1.toFixed(0)} s: reference labels above, predicted below (red: differs from the reference, or unmatched)`, toleranceMs: s.toleranceMs })}</div>`,
      '<p class="note">The stretch shown is the one with the most non-N reference beats (chosen for display only).</p>',
    );
  }
  parts.push(
    table(
      ['class', 'reference', 'matched', 'labelled as annotated', 'predicted'],
      Object.entries(s.perClass).map(([c, x]) => [
        escapeHtml(c),
        String(x.reference),
        String(x.matched),
        String(x.correct),
        String(x.predicted),
      ]),
    ),
  );
  return parts.join('\n');
}

/** The HTML page of a {@link PipelineView}: self-contained (inline CSS and SVG, no script, no link). */
export function renderPipelineReport(v: PipelineView): string {
  const notResult = v.mode !== 'full';
  const title = `ecgnn pipeline report${notResult ? ` — ${v.mode} run` : ''}`;
  const stages = table(
    ['stage', 'seconds', 'outcome'],
    v.stages.map((s) => [escapeHtml(s.stage), s.seconds.toFixed(1), escapeHtml(s.summary)]),
    'lrl',
  );
  const prov = v.provenance;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body><main>',
    `<h1>${escapeHtml(title)}</h1>`,
    notResult
      ? `<div class="banner">${escapeHtml(v.mode)} run: reduced data and epochs — every figure on this page is a ${escapeHtml(v.mode)} figure, not a result. The results come from <span class="mono">ecgnn pipeline --full</span> (docs/results.md).</div>`
      : '',
    `<p class="meta">MIT-BIH Arrhythmia Database, inter-patient split (de Chazal 2004: DS1 train with a patient-wise validation part, DS2 test). Seed ${v.seed}; commit <span class="mono">${escapeHtml(prov.commit.slice(0, 10))}</span>${prov.commitDirty ? ' (dirty tree)' : ''}; ${escapeHtml(prov.date)}; data ${escapeHtml(v.dataDir)}.</p>`,
    `<p class="meta">Command: <span class="mono">${escapeHtml(prov.command)}</span></p>`,
    ...v.notes.map((x) => `<p class="note">${escapeHtml(x)}</p>`),
    '<h2 id="stages">Stages</h2>',
    stages,
    modelsSection(v),
    curvesSection(v),
    '<h2 id="confusion">Confusion matrices</h2>',
    '<p class="note">Rows: reference class; columns: predicted class. Green: correct (shade by the share of the row); red: errors (shade by count).</p>',
    `<div class="cards">${v.confusions.map(confusionTable).join('\n')}</div>`,
    recordsSection(v),
    serveSection(v),
    '</main></body></html>',
    '',
  ].join('\n');
}
