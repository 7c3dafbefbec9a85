/** Plain-text and markdown renderings of {@link Metrics}: per-class tables and the confusion matrix. */
import type { Metrics } from './metrics.js';

/** A fraction as a percentage with one decimal, or `–` when undefined. */
export function pct(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(1) : '–';
}

function table(rows: string[][], alignLeft = 1): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((x, i) => (i < alignLeft ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  '))
    .join('\n');
}

function summary(m: Metrics): string {
  // The subset macro-F1 and jκ (over N, S, V, F) exist only for label sets that hold those classes.
  const subset =
    m.subsetClasses.length > 0 ? `macro-F1 (${m.subsetClasses.join(',')}) ${pct(m.subsetMacroF1)} %   ` : '';
  const jk = m.jk === null ? '' : `jκ ${m.jk.toFixed(3)}   `;
  return `accuracy ${pct(m.accuracy)} %   macro-F1 ${pct(m.macroF1)} %   ${subset}κ ${m.kappa.toFixed(3)}   ${jk}(${m.count} items)`;
}

/** Plain-text per-class table (Se, PPV, Sp, F1 in %, support) plus a summary line. */
export function formatMetrics(m: Metrics): string {
  const rows = [['class', 'Se %', 'PPV %', 'Sp %', 'F1 %', 'items']];
  for (const c of m.classes) {
    const r = m.perClass[c];
    rows.push([c, pct(r.se), pct(r.ppv), pct(r.spec), pct(r.f1), String(r.support)]);
  }
  return `${table(rows)}\n${summary(m)}`;
}

/** Plain-text confusion matrix (rows true, columns predicted). */
export function formatConfusion(m: Metrics): string {
  const rows = [['true\\pred', ...m.classes]];
  m.classes.forEach((c, t) => {
    rows.push([c, ...m.confusion[t].map(String)]);
  });
  return table(rows);
}

/** Markdown per-class table, summary sentence and confusion matrix. */
export function metricsMarkdown(m: Metrics): string {
  const lines = [
    '| class | Se % | PPV % | Sp % | F1 % | items |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of m.classes) {
    const r = m.perClass[c];
    lines.push(`| ${c} | ${pct(r.se)} | ${pct(r.ppv)} | ${pct(r.spec)} | ${pct(r.f1)} | ${r.support} |`);
  }
  lines.push(
    '',
    `Accuracy ${pct(m.accuracy)} %, macro-F1 ${pct(m.macroF1)} % (classes with items), macro-F1 over ` +
      `${m.subsetClasses.join(', ')} ${pct(m.subsetMacroF1)} %, Cohen's κ ${m.kappa.toFixed(3)}, ` +
      `jκ ${m.jk === null ? '–' : m.jk.toFixed(3)}, ${m.count} items.`,
    '',
    `| true \\ predicted | ${m.classes.join(' | ')} |`,
    `| --- | ${m.classes.map(() => '---:').join(' | ')} |`,
  );
  m.classes.forEach((c, t) => {
    lines.push(`| ${c} | ${m.confusion[t].join(' | ')} |`);
  });
  return lines.join('\n');
}
