// The pipeline's HTML report and its SVG charts on fixed inputs: the figures appear, text is escaped, the page
// is self-contained (no URL, no script), strips mark wrong and missed beats.
import { describe, expect, it } from 'vitest';
import {
  ecgStrip,
  escapeHtml,
  lineChart,
  niceTicks,
  renderPipelineReport,
  scatterChart,
} from '../src/index.js';
import { fixedPipelineView } from './fixtures/pipeline-view.js';

describe('renderPipelineReport', () => {
  const html = renderPipelineReport(fixedPipelineView());

  it('is one self-contained page: no URL, no script, no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    expect(html).toMatch(/<style>[\s\S]+<\/style>/);
    expect((html.match(/<svg /g) ?? []).length).toBe(2 + 2 * 2 + 1); // trade-off ×2, curves 2 groups ×2, strip
  });

  it('labels a quick run as not a result, and a full run not', () => {
    expect(html).toContain('ecgnn pipeline report — quick run');
    expect(html).toMatch(/every figure on this page is a quick figure, not a result/);
    const full = renderPipelineReport(fixedPipelineView({ mode: 'full' }));
    expect(full).not.toMatch(/not a result/);
    expect(full).toContain('<title>ecgnn pipeline report</title>');
  });

  it('shows the figures of the view', () => {
    // Models table: parameters, KB, validation and test macro-F1, agreement, infer time.
    expect(html).toContain(
      '<td>98857</td><td>393.8</td><td>52.1</td><td>47.5</td><td>92.8</td><td>6214/6214</td>',
    );
    expect(html).toContain('<td class="l">student-kd</td>');
    expect(html).toContain('<td>59.2</td>');
    // Pruning rounds are on the curve, not in the table.
    expect(html).not.toContain('<td class="l">student round-1</td>');
    // Stages with their seconds.
    expect(html).toContain('<td class="l">distill</td><td>151.3</td>');
    // Confusion matrix cells and the row total.
    expect(html).toMatch(/<th>N<\/th><td style="background:[^"]+">5123<\/td>/);
    expect(html).toContain('>5471</td></tr>');
    expect(html).toContain('accuracy 93.1 %, macro-F1 59.2 %');
    // Per-record table: Se of S in record 232 with its beats.
    expect(html).toContain('<td class="l">232</td><td>223</td><td>41.3</td><td>33.0</td>');
    expect(html).toContain('20.1 <span class="meta">(172)</span>');
    // The served record.
    expect(html).toContain('2590 of 2601 reference beats matched within 150 ms, 95.2 %');
    expect(html).toContain('Record 200, 0–10 s');
    // Provenance.
    expect(html).toContain('commit <span class="mono">0123456789</span> (dirty tree)');
  });

  it('escapes every text it shows', () => {
    const v = fixedPipelineView({
      provenance: { command: 'ecgnn pipeline --out "a & <b>"', commit: 'c', date: 'd' },
      notes: ['<script>alert(1)</script>'],
    });
    v.models[0].name = '<img src=x onerror=alert(1)>';
    const out = renderPipelineReport(v);
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img src=x');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('--out &quot;a &amp; &lt;b&gt;&quot;');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('report SVG', () => {
  it('escapeHtml escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('niceTicks steps by 1, 2 or 5 × 10^k', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.31, 0.58, 4)).toEqual([0.4, 0.5]);
    expect(niceTicks(0.31, 0.58, 4, true)).toEqual([0.3, 0.4, 0.5, 0.6]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('lineChart breaks a line at null values and rings the marked point', () => {
    const svg = lineChart(
      [
        {
          label: 'a',
          color: '#123456',
          mark: 4,
          points: [1, 2, 3, 4, 5].map((x) => ({ x, y: x === 3 ? null : x })),
        },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    expect((svg.match(/<polyline /g) ?? []).length).toBe(2);
    expect(svg).toContain('<title>a: kept epoch 4</title>');
    expect(lineChart([], { title: 't', xLabel: 'x', yLabel: 'y' })).toContain('no data');
  });

  it('scatterChart labels points and keeps labels apart', () => {
    const svg = scatterChart(
      [
        { x: 100, y: 0.5, color: '#000', label: 'one' },
        { x: 100, y: 0.5, color: '#000', label: 'two' },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    const ys = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" class="point-label">/g)].map((m) =>
      Number(m[1]),
    );
    expect(ys).toHaveLength(2);
    expect(Math.abs(ys[0] - ys[1])).toBeGreaterThanOrEqual(12);
  });

  it('ecgStrip marks a wrong prediction and a missed reference beat', () => {
    const svg = ecgStrip(
      {
        fs: 100,
        start: 1000,
        samples: Array.from({ length: 400 }, (_, i) => Math.sin(i / 5)),
        reference: [
          { sample: 1050, label: 'N' },
          { sample: 1150, label: 'V' },
          { sample: 1250, label: 'N' },
        ],
        predicted: [
          { sample: 1052, label: 'N', probability: 0.9 },
          { sample: 1148, label: 'N', probability: 0.6 },
        ],
      },
      { title: 'strip' },
    );
    expect(svg).toContain('class="pred wrong"><title>N p=0.60</title>N</text>');
    expect((svg.match(/class="pred"/g) ?? []).length).toBe(1);
    expect((svg.match(/class="ref miss"/g) ?? []).length).toBe(1);
    expect(svg).toContain('>10 s</text>');
    expect(svg).toContain('>13 s</text>');
  });
});
