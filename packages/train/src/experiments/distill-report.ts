/**
 * The markdown report of a distillation run (`report.md` beside `report.json`), shared by examples/distill.ts
 * and `ecgnn distill`.
 */
import { formatConfusion, pct } from '../format.js';
import { DISTILL_MODELS, type DistillModelReport, type DistillReport } from './distill.js';

/** "first → last" resident set size of the epochs trained by this process, MiB ('–' when none). */
function rssRange(rss: readonly number[]): string {
  return rss.length === 0 ? '–' : `${Math.round(rss[0])} → ${Math.round(rss[rss.length - 1])}`;
}

/** The markdown report of a run: settings, one table row per model, and each model's test confusion matrix. */
export function distillMarkdown(r: DistillReport): string {
  const lines = [
    `# Distillation (method 1)${r.smoke ? ' — smoke run, not a result' : ''}`,
    '',
    `- Protocol: ${r.protocol} — ${r.split}`,
    `- Command: \`${r.provenance.command}\``,
    `- Seed ${r.seed}, commit \`${r.provenance.commit}\`, ${r.provenance.date}`,
    `- Beats: train ${JSON.stringify(r.data.counts.train)}, validation ${JSON.stringify(r.data.counts.validation)}, test ${JSON.stringify(r.data.counts.test)}`,
    `- Majority-class baseline (always ${r.baseline.className}): accuracy ${pct(r.baseline.metrics.accuracy)} %, macro-F1 (N,S,V,F) ${pct(r.baseline.metrics.subsetMacroF1)} %`,
    `- Macro-F1 gap between the student alone and the teacher closed by distillation: ${r.gapClosed === null ? '– (no gap)' : `${pct(r.gapClosed)} %`}`,
    '',
    '| model | params | layers | bytes | test acc % | macro-F1 % | S Se % | S +P % | V Se % | V +P % | jκ | infer ms/beat | agreement % | kept epoch | s/epoch | RSS MiB first → last epoch |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const present = DISTILL_MODELS.filter((n) => r.models[n] !== undefined);
  for (const name of present) {
    const m = r.models[name] as DistillModelReport;
    const t = m.test;
    lines.push(
      `| ${name} | ${m.params} | ${m.layers} | ${m.export.bytes} | ${pct(t.accuracy)} | ${pct(t.subsetMacroF1)} | ${pct(t.perClass.S?.se)} | ${pct(t.perClass.S?.ppv)} | ${pct(t.perClass.V?.se)} | ${pct(t.perClass.V?.ppv)} | ${t.jk === null ? '–' : t.jk.toFixed(3)} | ${m.export.inferMsPerSample.toFixed(4)} | ${(100 * m.export.agreement).toFixed(2)} | ${m.training.result.bestEpoch}/${m.training.epochsRun} | ${m.training.secondsPerEpoch?.toFixed(1) ?? '–'} | ${rssRange(m.training.rssMB)} |`,
    );
  }
  for (const name of present) {
    const m = r.models[name] as DistillModelReport;
    lines.push(
      '',
      `## ${name}`,
      '',
      `${m.config.kind}, ${m.params} parameters, ${m.layers} weight layers; ${m.sampler}; SGD lr ${m.optimizer.lr}, momentum ${m.optimizer.momentum}, weight decay ${m.optimizer.weightDecay}.`,
      m.distillation ? `Distillation: ${JSON.stringify(m.distillation)}.` : '',
      `Kept weights: ${m.selectedBy} (validation macro-F1 ${pct(m.validation.subsetMacroF1)} %); stop: ${m.training.result.stopReason}.`,
      '',
      'Test confusion (rows true, columns predicted):',
      '',
      '```',
      formatConfusion(m.test),
      '```',
    );
  }
  return `${lines.join('\n')}\n`;
}
