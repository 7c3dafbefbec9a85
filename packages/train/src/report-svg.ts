/**
 * Inline SVG charts for self-contained HTML reports (no scripts, no external resources): line charts of
 * training curves, a scatter plot on a log₁₀ x axis (model size against macro-F1), and an ECG strip with beat
 * labels. Every function returns markup meant to sit inside an HTML page; all text goes through
 * {@link escapeHtml}. Inline `<svg>` in HTML needs no namespace attribute, so none is written.
 */

/** Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A categorical palette (Tableau 10), colour i for series i. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const n = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '0');

/**
 * "Nice" tick values for [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them; inside [lo, hi], or
 * (`cover`) from the last tick at or below `lo` to the first at or above `hi`.
 */
export function niceTicks(lo: number, hi: number, count = 5, cover = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = (cover ? Math.floor(lo / step + 1e-9) : Math.ceil(lo / step - 1e-9)) * step;
  const last = cover ? Math.ceil(hi / step - 1e-9) * step : hi;
  const out: number[] = [];
  for (let i = 0; first + i * step <= last + step * 1e-9; i++)
    out.push(Number((first + i * step).toPrecision(12)));
  return out;
}

/** One line of a {@link lineChart}: points (x, y), y null where undefined (the line breaks there). */
export interface LineSeries {
  label: string;
  color: string;
  points: { x: number; y: number | null }[];
  /** Dashed line. */
  dashed?: boolean;
  /** x of a point to mark with a ring (e.g. the kept epoch). */
  mark?: number | null;
}

/** Size and labels of a chart. */
export interface ChartFrame {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Format of the y tick labels (default: the number). */
  yFormat?: (y: number) => string;
  /** Bounds of the y axis when the data allow no wider one (e.g. 0 and 1 for a fraction). */
  yMin?: number;
  yMax?: number;
}

interface Box {
  w: number;
  h: number;
  l: number;
  r: number;
  t: number;
  b: number;
}

function frame(f: ChartFrame, box: Box, xTicks: [number, string][], yTicks: [number, string][]): string[] {
  const { w, h, l, r, t, b } = box;
  const out = [
    `<svg class="chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(f.title)}">`,
    `<text x="${l}" y="14" class="title">${escapeHtml(f.title)}</text>`,
  ];
  for (const [y, label] of yTicks) {
    out.push(
      `<line x1="${l}" y1="${n(y)}" x2="${w - r}" y2="${n(y)}" class="grid"/>`,
      `<text x="${l - 5}" y="${n(y + 3.5)}" text-anchor="end">${escapeHtml(label)}</text>`,
    );
  }
  for (const [x, label] of xTicks) {
    out.push(
      `<line x1="${n(x)}" y1="${h - b}" x2="${n(x)}" y2="${h - b + 4}" class="axis"/>`,
      `<text x="${n(x)}" y="${h - b + 15}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  }
  out.push(
    `<line x1="${l}" y1="${h - b}" x2="${w - r}" y2="${h - b}" class="axis"/>`,
    `<line x1="${l}" y1="${t}" x2="${l}" y2="${h - b}" class="axis"/>`,
    `<text x="${(l + w - r) / 2}" y="${h - 4}" text-anchor="middle" class="label">${escapeHtml(f.xLabel)}</text>`,
    `<text transform="translate(12 ${(t + h - b) / 2}) rotate(-90)" text-anchor="middle" class="label">${escapeHtml(f.yLabel)}</text>`,
  );
  return out;
}

function legend(
  items: readonly { label: string; color: string; dashed?: boolean }[],
  x: number,
  y: number,
): string[] {
  return items.flatMap((it, i) => [
    `<line x1="${x}" y1="${y + 16 * i}" x2="${x + 18}" y2="${y + 16 * i}" stroke="${it.color}" stroke-width="2"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    `<text x="${x + 23}" y="${y + 16 * i + 4}">${escapeHtml(it.label)}</text>`,
  ]);
}

/**
 * A line chart of `series` (linear axes; the legend in a right margin), with a ring on each series' `mark`.
 * Empty series give an empty frame with the note "no data".
 */
export function lineChart(series: readonly LineSeries[], f: ChartFrame): string {
  const legendWidth = 150;
  const box: Box = { w: f.width ?? 460, h: f.height ?? 240, l: 48, r: legendWidth + 12, t: 24, b: 36 };
  const pts = series.flatMap((s) => s.points.filter((p) => p.y !== null && Number.isFinite(p.y)));
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y as number);
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  [y0, y1] = [Math.max(y0, f.yMin ?? -Infinity), Math.min(y1, f.yMax ?? Infinity)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  const yt = niceTicks(y0, y1, 4, true);
  [y0, y1] = [yt[0], yt[yt.length - 1]];
  const px = (x: number): number => box.l + ((box.w - box.l - box.r) * (x - x0)) / Math.max(x1 - x0, 1);
  const py = (y: number): number => box.h - box.b - ((box.h - box.t - box.b) * (y - y0)) / (y1 - y0);
  const fmt = f.yFormat ?? ((y: number) => String(y));
  const xt = niceTicks(x0, Math.max(x1, x0 + 1), 6).filter((x) => Number.isInteger(x));
  const out = frame(
    f,
    box,
    xt.map((x) => [px(x), String(x)]),
    yt.map((y) => [py(y), fmt(y)]),
  );
  if (pts.length === 0)
    out.push(`<text x="${(box.l + box.w - box.r) / 2}" y="${box.h / 2}" text-anchor="middle">no data</text>`);
  for (const s of series) {
    const runs: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) runs.push([]);
      else runs[runs.length - 1].push(`${n(px(p.x))},${n(py(p.y))}`);
    }
    for (const run of runs.filter((r) => r.length > 0)) {
      out.push(
        `<polyline points="${run.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
      if (run.length === 1) {
        const [cx, cy] = run[0].split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
      }
    }
    const m = s.points.find((p) => p.x === s.mark && p.y !== null);
    if (m)
      out.push(
        `<circle cx="${n(px(m.x))}" cy="${n(py(m.y as number))}" r="5" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${escapeHtml(`${s.label}: kept epoch ${m.x}`)}</title></circle>`,
      );
  }
  out.push(...legend(series, box.w - legendWidth, box.t + 6), '</svg>');
  return out.join('\n');
}

/** A point of a {@link scatterChart}. */
export interface ScatterPoint {
  x: number;
  y: number;
  color: string;
  /** Text beside the point (none for unlabelled points). */
  label?: string;
  /** Hollow marker. */
  hollow?: boolean;
  /** Small marker (e.g. intermediate pruning rounds). */
  small?: boolean;
  /** Tooltip. */
  title?: string;
}

/**
 * A scatter plot with a log₁₀ x axis (ticks at powers of ten and their 2× and 5×) and a linear y axis; `lines`
 * join points of a series in the given order (e.g. the pruning rounds). Labels are drawn right of their point.
 */
export function scatterChart(
  points: readonly ScatterPoint[],
  f: ChartFrame & { lines?: { color: string; points: { x: number; y: number }[] }[]; legend?: LineSeries[] },
): string {
  const legendWidth = f.legend?.length ? 150 : 0;
  const box: Box = { w: f.width ?? 520, h: f.height ?? 300, l: 48, r: legendWidth + 16, t: 24, b: 36 };
  const finite = points.filter((p) => p.x > 0 && Number.isFinite(p.y));
  const lx = finite.map((p) => Math.log10(p.x));
  const x0 = lx.length ? Math.floor(Math.min(...lx) - 0.05) : 0;
  const x1 = lx.length ? Math.ceil(Math.max(...lx) + 0.25) : 1;
  const ys = finite.map((p) => p.y);
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y1 - y0 < 0.05) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  const yt = niceTicks(Math.max(0, y0 - 0.02), Math.min(1, y1 + 0.02), 5, true);
  [y0, y1] = [yt[0], yt[yt.length - 1]];
  const px = (x: number): number =>
    box.l + ((box.w - box.l - box.r) * (Math.log10(x) - x0)) / Math.max(x1 - x0, 1e-9);
  const py = (y: number): number => box.h - box.b - ((box.h - box.t - box.b) * (y - y0)) / (y1 - y0 || 1);
  const xTicks: [number, string][] = [];
  const short = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));
  for (let e = x0; e <= x1; e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) <= x1 + 1e-9) xTicks.push([px(v), m === 1 ? short(v) : '']);
    }
  const fmt = f.yFormat ?? ((y: number) => String(y));
  const out = frame(
    f,
    box,
    xTicks,
    yt.map((y) => [py(y), fmt(y)]),
  );
  for (const line of f.lines ?? []) {
    const d = line.points.filter((p) => p.x > 0).map((p) => `${n(px(p.x))},${n(py(p.y))}`);
    if (d.length > 1)
      out.push(
        `<polyline points="${d.join(' ')}" fill="none" stroke="${line.color}" stroke-width="1" opacity="0.7"/>`,
      );
  }
  for (const p of finite) {
    const r = p.small ? 2.5 : 4.5;
    out.push(
      `<circle cx="${n(px(p.x))}" cy="${n(py(p.y))}" r="${r}" stroke="${p.color}" stroke-width="1.5" fill="${p.hollow ? 'white' : p.color}">${p.title ? `<title>${escapeHtml(p.title)}</title>` : ''}</circle>`,
    );
  }
  // Labels right of their points, pushed down (with a leader line) until they overlap no label placed before.
  const placed: { x0: number; x1: number; y: number }[] = [];
  const labelled = finite.filter((p) => p.label).sort((a, b) => py(a.y) - py(b.y) || px(a.x) - px(b.x));
  for (const p of labelled) {
    const [x, y] = [px(p.x), py(p.y)];
    const box = { x0: x + 7, x1: x + 7 + 6.2 * (p.label as string).length, y: y + 4 };
    while (placed.some((q) => Math.abs(q.y - box.y) < 12 && q.x0 < box.x1 && box.x0 < q.x1)) box.y += 12;
    placed.push(box);
    if (box.y - (y + 4) > 6)
      out.push(
        `<line x1="${n(x + 3)}" y1="${n(y + 2)}" x2="${n(box.x0 - 1)}" y2="${n(box.y - 4)}" stroke="#999" stroke-width="0.7"/>`,
      );
    out.push(
      `<text x="${n(box.x0)}" y="${n(box.y)}" class="point-label">${escapeHtml(p.label as string)}</text>`,
    );
  }
  if (f.legend?.length) out.push(...legend(f.legend, box.w - legendWidth, box.t + 6));
  out.push('</svg>');
  return out.join('\n');
}

/** An ECG strip to draw: raw samples and the beats annotated and predicted inside it. */
export interface StripData {
  fs: number;
  /** Index in the record of `samples[0]`. */
  start: number;
  samples: readonly number[];
  reference: readonly { sample: number; label: string }[];
  predicted: readonly { sample: number; label: string; probability: number }[];
}

/**
 * An ECG strip on paper-like grid (0.2 s and 0.5 mV major lines), the signal as one polyline (min/max per pixel
 * column when there are more samples than pixels), the reference labels above and the predicted labels below
 * each beat: a prediction is red when its nearest reference beat within `toleranceMs` has another label (or none
 * exists), the reference label red when no prediction matched it.
 */
export function ecgStrip(
  s: StripData,
  opts: { width?: number; height?: number; title: string; toleranceMs?: number },
): string {
  const w = opts.width ?? 1040;
  const h = opts.height ?? 260;
  const box = { l: 44, r: 24, t: 44, b: 56 };
  const count = s.samples.length;
  const seconds = count / s.fs;
  const tol = ((opts.toleranceMs ?? 150) / 1000) * s.fs;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of s.samples) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) [lo, hi] = [-1, 1];
  lo = Math.floor(lo * 2) / 2;
  hi = Math.ceil(hi * 2) / 2;
  const px = (i: number): number => box.l + ((w - box.l - box.r) * i) / Math.max(count, 1);
  const py = (v: number): number => h - box.b - ((h - box.t - box.b) * (v - lo)) / (hi - lo);
  const out = [
    `<svg class="strip" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(opts.title)}">`,
    `<text x="${box.l}" y="14" class="title">${escapeHtml(opts.title)}</text>`,
    `<rect x="${box.l}" y="${box.t}" width="${w - box.l - box.r}" height="${h - box.t - box.b}" class="paper"/>`,
  ];
  // Vertical lines every 0.2 s, the whole seconds (of the record's time) darker and labelled.
  const t0 = s.start / s.fs;
  for (let k = Math.ceil(t0 / 0.2 - 1e-9); k * 0.2 <= t0 + seconds + 1e-9; k++) {
    const major = k % 5 === 0;
    const x = px((k * 0.2 - t0) * s.fs);
    out.push(
      `<line x1="${n(x)}" y1="${box.t}" x2="${n(x)}" y2="${h - box.b}" class="${major ? 'paper-major' : 'paper-minor'}"/>`,
    );
    if (major) out.push(`<text x="${n(x)}" y="${h - box.b + 40}" text-anchor="middle">${k / 5} s</text>`);
  }
  for (let v = lo; v <= hi + 1e-9; v += 0.5) {
    out.push(`<line x1="${box.l}" y1="${n(py(v))}" x2="${w - box.r}" y2="${n(py(v))}" class="paper-minor"/>`);
    out.push(`<text x="${box.l - 4}" y="${n(py(v) + 3.5)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  // The signal, reduced to min and max per pixel column.
  const columns = Math.max(1, Math.floor(w - box.l - box.r));
  const per = count / columns;
  const path: string[] = [];
  if (per <= 2) for (let i = 0; i < count; i++) path.push(`${n(px(i))},${n(py(s.samples[i]))}`);
  else
    for (let c = 0; c < columns; c++) {
      const [a, b] = [Math.floor(c * per), Math.min(count, Math.floor((c + 1) * per))];
      let [mn, mx, imn, imx] = [Infinity, -Infinity, a, a];
      for (let i = a; i < b; i++) {
        if (s.samples[i] < mn) [mn, imn] = [s.samples[i], i];
        if (s.samples[i] > mx) [mx, imx] = [s.samples[i], i];
      }
      const pair = imn <= imx ? [imn, imx] : [imx, imn];
      for (const i of pair) path.push(`${n(px(i))},${n(py(s.samples[i]))}`);
    }
  out.push(`<polyline points="${path.join(' ')}" fill="none" class="ecg"/>`);
  const nearest = <T extends { sample: number }>(list: readonly T[], at: number): T | undefined => {
    let best: T | undefined;
    for (const b of list)
      if (Math.abs(b.sample - at) <= tol && (!best || Math.abs(b.sample - at) < Math.abs(best.sample - at)))
        best = b;
    return best;
  };
  for (const r of s.reference) {
    const x = px(r.sample - s.start);
    const ok = nearest(s.predicted, r.sample) !== undefined;
    out.push(
      `<line x1="${n(x)}" y1="${box.t - 4}" x2="${n(x)}" y2="${box.t}" class="tick"/>`,
      `<text x="${n(x)}" y="${box.t - 8}" text-anchor="middle" class="${ok ? 'ref' : 'ref miss'}">${escapeHtml(r.label)}</text>`,
    );
  }
  for (const p of s.predicted) {
    const x = px(p.sample - s.start);
    const ref = nearest(s.reference, p.sample);
    const ok = ref !== undefined && ref.label === p.label;
    out.push(
      `<line x1="${n(x)}" y1="${h - box.b}" x2="${n(x)}" y2="${h - box.b + 4}" class="tick"/>`,
      `<text x="${n(x)}" y="${h - box.b + 16}" text-anchor="middle" class="${ok ? 'pred' : 'pred wrong'}"><title>${escapeHtml(`${p.label} p=${p.probability.toFixed(2)}`)}</title>${escapeHtml(p.label)}</text>`,
    );
  }
  out.push(
    `<text x="4" y="${box.t - 8}" class="label">reference</text>`,
    `<text x="4" y="${h - box.b + 16}" class="label">predicted</text>`,
    `<text transform="translate(12 ${n((box.t + h - box.b) / 2)}) rotate(-90)" text-anchor="middle" class="label">mV</text>`,
    '</svg>',
  );
  return out.join('\n');
}
