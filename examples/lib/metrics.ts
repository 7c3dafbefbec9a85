/**
 * Report formatting of the main job's classification metrics. The metrics themselves (confusion matrix,
 * per-class Se, PPV and F1, accuracy, macro-F1, Cohen's κ, jκ) are `@ecgnn/train`'s, the one implementation.
 */
import type { Metrics } from '@ecgnn/train';

export {
  type ClassMetrics,
  classificationMetrics,
  confusionMatrix,
  type Metrics,
  metricsFromConfusion,
} from '@ecgnn/train';

/** Formats a fraction as a percentage with one decimal, or `–` when undefined. */
export function pct(x: number | null | undefined): string {
  return typeof x === 'number' ? `${(100 * x).toFixed(1)}` : '–';
}

function table(rows: string[][], alignLeft = 1): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((x, i) => (i < alignLeft ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  '))
    .join('\n');
}

/** Plain-text per-class table (Se, PPV, F1 in %, support) plus the summary line. */
export function formatMetrics(m: Metrics): string {
  const rows = [['class', 'Se %', 'PPV %', 'F1 %', 'beats']];
  for (const c of m.classes) {
    const r = m.perClass[c];
    rows.push([c, pct(r.se), pct(r.ppv), pct(r.f1), String(r.support)]);
  }
  const summary =
    `accuracy ${pct(m.accuracy)} %   macro-F1 ${pct(m.macroF1)} %   macro-F1 (N,S,V,F) ${pct(m.subsetMacroF1)} %   ` +
    `κ ${m.kappa.toFixed(3)}   jκ ${m.jk === null ? '–' : m.jk.toFixed(3)}   (${m.count} beats)`;
  return `${table(rows)}\n${summary}`;
}

/** Plain-text confusion matrix (rows true, columns predicted). */
export function formatConfusion(m: Metrics): string {
  const rows = [['true\\pred', ...m.classes]];
  m.classes.forEach((c, t) => {
    rows.push([c, ...m.confusion[t].map(String)]);
  });
  return table(rows);
}

/** Markdown per-class table and confusion matrix. */
export function metricsMarkdown(m: Metrics): string {
  const lines = ['| class | Se % | PPV % | F1 % | beats |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const c of m.classes) {
    const r = m.perClass[c];
    lines.push(`| ${c} | ${pct(r.se)} | ${pct(r.ppv)} | ${pct(r.f1)} | ${r.support} |`);
  }
  lines.push(
    '',
    `Accuracy ${pct(m.accuracy)} %, macro-F1 ${pct(m.macroF1)} % (classes with beats), macro-F1 over N, S, V, F ` +
      `${pct(m.subsetMacroF1)} %, Cohen's κ ${m.kappa.toFixed(3)}, jκ ${m.jk === null ? '–' : m.jk.toFixed(3)}, ` +
      `${m.count} beats.`,
    '',
    `| true \\ predicted | ${m.classes.join(' | ')} |`,
    `| --- | ${m.classes.map(() => '---:').join(' | ')} |`,
  );
  m.classes.forEach((c, t) => {
    lines.push(`| ${c} | ${m.confusion[t].join(' | ')} |`);
  });
  return lines.join('\n');
}
