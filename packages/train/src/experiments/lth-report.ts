/**
 * The lottery-ticket run's report: `report.md` (settings, the round table — remaining weights, parameters,
 * compression by parameters and by file bytes, validation and test macro-F1 — the ticket, the control) and an
 * SVG plot of macro-F1 against compression (log scale), written beside `report.json`.
 */
import { pct } from '../format.js';
import type { LthReport } from './lth.js';

function x(v: number, digits = 2): string {
  return Number.isFinite(v) ? `${v.toFixed(digits)}×` : '–';
}

/** The search's metric without the split: "macro-F1 over N, S, V, F" or "macro-F1 over 17 classes". */
function metricWords(r: LthReport): string {
  return r.search.metric.replace(/^validation /, '');
}

/** The markdown report of a run. */
export function lthMarkdown(r: LthReport): string {
  const k = r.search.metricKey;
  const t = r.ticket;
  const s = r.settings.lth;
  const lines = [
    `# Lottery-ticket pruning (method 3): ${r.model.name}${r.smoke ? ' — smoke run, not a result' : ''}`,
    '',
    `- Protocol: ${r.protocol} — ${r.split}`,
    `- Command: \`${r.provenance.command}\``,
    `- Seed ${r.seed}, commit \`${r.provenance.commit}\`, ${r.provenance.date}`,
    `- Model: ${r.model.config.kind}, ${r.dense.params} parameters, ${r.model.layers} weight layers; pruned layers: ${r.model.prunedLayers.join(', ')} ${s.pruneOutput ? '(the output layer included)' : '(the output layer stays dense)'}; ${r.model.recipe}`,
    `- Search: ${s.scope} magnitude pruning of ${100 * s.fraction} % of the remaining weights per round, rewinding to ${s.rewindStep === 0 ? 'the initial weights' : `the weights after step ${s.rewindStep}`}; goal ${r.search.metric} ≥ ${s.goal} × dense = ${r.search.threshold.toFixed(4)}; ${s.retries} retr${s.retries === 1 ? 'y' : 'ies'} with half the fraction; at most ${s.maxRounds} rounds. Stopped: ${r.search.stopReason}.${s.traceRounds > 0 ? ` Traced past the stop up to round ${s.traceRounds} (runs \`trace-<r>\`: the last run pruned further, for the curve; never the ticket).` : ''}`,
    `- Beats: train ${JSON.stringify(r.data.counts.train)}, validation ${JSON.stringify(r.data.counts.validation)}, test ${JSON.stringify(r.data.counts.test)}`,
    '',
    '## Rounds',
    '',
    'Test figures were computed after the search; the search saw validation only.',
    '',
    '| run | pruned this round % | prunable left % | non-zero params | compression (params) | bytes | compression (bytes) | val macro-F1 % | test macro-F1 % | goal met | epochs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const k of r.rounds) {
    lines.push(
      `| ${k.label}${k.label === t.round.label ? ' (ticket)' : ''}${k.traced ? ' (traced)' : ''} | ${(100 * k.fraction).toFixed(1)} | ${((100 * k.remaining) / k.prunable).toFixed(2)} | ${k.params} | ${x(k.compression)} | ${k.bytes} | ${x(k.compressionBytes)} | ${pct(k.metric)} | ${pct(k.testMacroF1)} | ${k.passed ? 'yes' : 'no'} | ${k.epochs ?? '–'} |`,
    );
  }
  const e = t.export;
  lines.push(
    '',
    '## Ticket',
    '',
    `${t.round.label}: ${t.round.params} of ${t.round.paramsDense} parameters non-zero (compression ${x(t.round.compression)}); file ${e.bytes} bytes with ${e.sparseTensors} sparse tensors, ${e.bytesDense} bytes dense (${x(e.bytesDense / e.bytes)}), ${e.bytesDenseStorage} bytes for the ticket stored dense.`,
    `Test ${metricWords(r)} ${pct(t.test[k])} % vs dense ${pct(r.dense.test[k])} % (loss ${r.testF1Loss === null ? '–' : `${(100 * r.testF1Loss).toFixed(2)} points`}); accuracy ${pct(t.test.accuracy)} % vs ${pct(r.dense.test.accuracy)} %.`,
    `@ecgnn/infer (sparse file) agrees with the pruned core model on ${(100 * e.agreement).toFixed(3)} % of test items (max |Δp| ${e.maxAbsProbDiff.toExponential(2)}); the densely stored file gives ${e.densifiedEqual ? 'identical' : 'different'} outputs; ${e.inferMsPerSample.toFixed(4)} ms per item (${e.inferTimingMethod}).`,
    '',
    '| layer | weights left | of | % |',
    '|---|---:|---:|---:|',
    ...t.layers.map(
      (l) => `| ${l.path} | ${l.kept} | ${l.total} | ${((100 * l.kept) / l.total).toFixed(2)} |`,
    ),
    '',
    '## Random-reinitialisation control',
    '',
    r.control === null
      ? 'Not run.'
      : `The ticket's mask on other initial weights, trained the same way: validation ${metricWords(r)} ${pct(r.control.validation[k])} % (ticket ${pct(t.round.metric)} %), test ${pct(r.control.test[k])} % (ticket ${pct(t.test[k])} %).`,
    '',
    `![macro-F1 against compression](f1-vs-compression.svg)`,
  );
  return `${lines.join('\n')}\n`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * An SVG plot of validation and test macro-F1 (y, %) against the compression factor by parameters (x, log₂
 * scale), one point per training run (hollow: broke the goal or traced past the stop, the trace dashed), the goal as a dashed line and the control as a
 * cross at the ticket's compression.
 */
export function lthSvg(r: LthReport): string {
  const k = r.search.metricKey;
  const W = 780;
  const H = 400;
  // The legend goes in the right margin, clear of the data.
  const m = { l: 56, r: 200, t: 28, b: 44 };
  const lx = W - m.r + 16;
  const pts = r.rounds.filter((k) => Number.isFinite(k.compression));
  const ys = pts.flatMap((k) => [k.metric, k.testMacroF1 ?? k.metric]);
  if (r.control) ys.push(r.control.test[k] ?? 0, r.control.validation[k] ?? 0);
  ys.push(r.search.threshold);
  const yLo = Math.max(0, Math.floor(Math.min(...ys) * 20) / 20);
  const yHi = Math.min(1, Math.ceil(Math.max(...ys) * 20) / 20 + 1e-9);
  const xHi = Math.max(1, Math.ceil(Math.log2(Math.max(...pts.map((k) => k.compression)))));
  const px = (c: number): number => m.l + ((W - m.l - m.r) * Math.log2(c)) / xHi;
  const py = (f: number): number => H - m.b - ((H - m.t - m.b) * (f - yLo)) / Math.max(yHi - yLo, 1e-9);
  const title = `Lottery-ticket pruning of the ${r.model.name}: ${metricWords(r)} vs compression`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
  ];
  for (let e = 0; e <= xHi; e++) {
    out.push(
      `<line x1="${px(2 ** e)}" y1="${H - m.b}" x2="${px(2 ** e)}" y2="${H - m.b + 4}" stroke="black"/>`,
      `<text x="${px(2 ** e)}" y="${H - m.b + 16}" text-anchor="middle">${2 ** e}×</text>`,
    );
  }
  for (let f = yLo; f <= yHi + 1e-9; f += 0.05) {
    out.push(
      `<line x1="${m.l - 4}" y1="${py(f)}" x2="${m.l}" y2="${py(f)}" stroke="black"/>`,
      `<text x="${m.l - 6}" y="${py(f) + 4}" text-anchor="end">${(100 * f).toFixed(0)} %</text>`,
    );
  }
  out.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">compression = dense / non-zero parameters (log scale)</text>`,
    `<line x1="${m.l}" y1="${py(r.search.threshold)}" x2="${W - m.r}" y2="${py(r.search.threshold)}" stroke="gray" stroke-dasharray="4 3"/>`,
    `<text x="${W - m.r - 4}" y="${py(r.search.threshold) - 4}" text-anchor="end" fill="gray">goal (validation)</text>`,
  );
  const series: Array<[string, (k: (typeof pts)[number]) => number | null]> = [
    ['#1f77b4', (k) => k.metric],
    ['#d62728', (k) => k.testMacroF1],
  ];
  for (const [color, get] of series) {
    const xy = (k: (typeof pts)[number]): string =>
      `${px(k.compression).toFixed(1)},${py(get(k) as number).toFixed(1)}`;
    const line = pts.filter((k) => k.passed && !k.traced && get(k) !== null).map(xy);
    out.push(`<polyline points="${line.join(' ')}" fill="none" stroke="${color}"/>`);
    // The trace past the stop: dashed, from the last run of the search through the traced runs.
    const traced = pts.filter((k) => k.traced && get(k) !== null);
    if (traced.length > 0) {
      const start = pts.filter((k) => !k.traced && get(k) !== null).at(-1);
      const chain = (start ? [start, ...traced] : traced).map(xy);
      out.push(
        `<polyline points="${chain.join(' ')}" fill="none" stroke="${color}" stroke-dasharray="5 3"/>`,
      );
    }
    for (const k of pts) {
      const v = get(k);
      if (v === null) continue;
      out.push(
        `<circle cx="${px(k.compression).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3.5" stroke="${color}" fill="${k.passed && !k.traced ? color : 'white'}"><title>${esc(`${k.label}: ${(100 * v).toFixed(2)} %, ${k.compression.toFixed(2)}×`)}</title></circle>`,
      );
    }
  }
  if (r.control) {
    const cx = px(r.ticket.round.compression);
    const cy = py(r.control.test[k] ?? 0);
    out.push(
      `<path d="M${cx - 5},${cy - 5}L${cx + 5},${cy + 5}M${cx - 5},${cy + 5}L${cx + 5},${cy - 5}" stroke="black" stroke-width="2"/>`,
    );
  }
  const legend: Array<[string, string]> = [
    ['#1f77b4', 'validation'],
    ['#d62728', 'test'],
  ];
  legend.forEach(([color, label], i) => {
    out.push(
      `<circle cx="${lx}" cy="${m.t + 10 + 16 * i}" r="3.5" fill="${color}"/>`,
      `<text x="${lx + 10}" y="${m.t + 14 + 16 * i}">${label} macro-F1</text>`,
    );
  });
  out.push(
    `<circle cx="${lx}" cy="${m.t + 42}" r="3.5" stroke="black" fill="white"/>`,
    `<text x="${lx + 10}" y="${m.t + 46}">broke the goal</text>`,
    `<text x="${lx - 4}" y="${m.t + 66}" font-weight="bold">✕</text>`,
    `<text x="${lx + 10}" y="${m.t + 66}">random-reinit control (test)</text>`,
  );
  if (r.rounds.some((k) => k.traced)) {
    out.push(
      `<line x1="${lx - 6}" y1="${m.t + 82}" x2="${lx + 6}" y2="${m.t + 82}" stroke="black" stroke-dasharray="5 3"/>`,
      `<text x="${lx + 10}" y="${m.t + 86}">traced past the stop (hollow,</text>`,
      `<text x="${lx + 10}" y="${m.t + 100}">never the ticket)</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
