/**
 * The markdown report of the binary-network experiment (method 5): the table of both networks (parameters,
 * weight bits, file and parameter bytes, test accuracy and macro-F1, infer time, infer/core disagreements, kept
 * epoch) and, per network, where every byte of its model file goes and its test confusion matrix.
 */
import { formatConfusion, pct } from '../format.js';
import type { BnnReport, BnnVariantReport } from './bnn.js';

/** The markdown report of a run. */
export function bnnMarkdown(r: BnnReport): string {
  const lines = [
    `# Binary neural network (method 5)${r.smoke ? ' — smoke run, not a result' : ''}`,
    '',
    `- Data: ${r.dataset}, ${r.protocol} — ${r.split}`,
    `- Command: \`${r.provenance.command}\``,
    `- Seed ${r.seed}, commit \`${r.provenance.commit}\`, ${r.provenance.date}`,
    `- Fragments: train ${JSON.stringify(r.counts.train)}, validation ${JSON.stringify(r.counts.validation)}, test ${JSON.stringify(r.counts.test)}`,
    `- Majority-class baseline (always ${r.baseline.className}): accuracy ${pct(r.baseline.metrics.accuracy)} %`,
    `- Infer time per fragment, float twin / binary: ${r.speedup === null ? '– (both variants needed)' : `${r.speedup.toFixed(2)}×`}`,
    '',
    '| network | params | weight bits | file bytes | parameter bytes | test acc % | macro-F1 % | infer ms/fragment | infer ≠ core (test / all) | kept epoch | s/epoch |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const present = Object.values(r.variants) as BnnVariantReport[];
  for (const m of present) {
    const e = m.export;
    lines.push(
      `| ${m.id} | ${m.params} | ${m.weightBits} | ${e.bytes} | ${e.storage.parameterBytes} | ${pct(m.test.accuracy)} | ${pct(m.test.macroF1)} | ${e.inferMsPerSample.toFixed(4)} | ${e.test.disagreements}/${e.test.items} · ${e.all.disagreements}/${e.all.items} | ${m.training.result.bestEpoch}/${m.training.epochsRun} | ${m.training.secondsPerEpoch?.toFixed(1) ?? '–'} |`,
    );
  }
  for (const m of present) {
    const s = m.export.storage;
    lines.push(
      '',
      `## ${m.id}`,
      '',
      `Storage of \`${m.export.file}\` (${s.fileBytes} bytes): binary weights ${s.binaryWeights.values} bits in ${s.binaryWeights.bytes} bytes (u32 words along input channels), folded thresholds ${s.thresholds.bytes} bytes, float parameters ${s.floats.bytes} bytes (${s.floats.values} values), header ${s.headerBytes} bytes, alignment ${s.alignmentBytes} bytes, checksum ${s.checksumBytes}. Parameters at their information content: ${s.parameterBytes} bytes.`,
      '',
      `Kept weights: ${m.selectedBy}; validation accuracy ${pct(m.validation.accuracy)} %. Plan: ${m.export.plan.join(' → ')}.`,
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
