/**
 * An ECG strip as SVG markup (a string, so Node tests check it and the page sets it as is): the signal over a
 * time window, each classified beat marked above the trace with its predicted label, and the reference label
 * below it when the record has one (red where they differ). The trace is drawn as one polyline of the
 * minimum and maximum of each pixel column, so a 10-second strip at 360 Hz costs as much as a 60-second one.
 */

/** A beat the classifier labelled. */
export interface StripBeat {
  /** Sample index (R peak). */
  sample: number;
  /** Predicted label. */
  label: string;
  /** Probability of the predicted label. */
  probability: number;
}

/** What to draw. */
export interface StripInput {
  signal: Float32Array;
  sampleRate: number;
  /** First second of the window. */
  from: number;
  /** Seconds shown. */
  seconds: number;
  beats: readonly StripBeat[];
  /** Reference beats (sample, label), or null. */
  reference: readonly { sample: number; label: string }[] | null;
  /** Width and height in pixels (default 1000 × 260). */
  width?: number;
  height?: number;
}

/** Colour of a class label (AAMI classes get fixed colours, others grey). */
export function labelColor(label: string): string {
  return { N: '#2b6cb0', S: '#d69e2e', V: '#c53030', F: '#805ad5', Q: '#4a5568' }[label] ?? '#4a5568';
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The reference label of the reference beat within 150 ms of `sample`, or null. */
function referenceAt(
  reference: readonly { sample: number; label: string }[],
  sample: number,
  tolerance: number,
): string | null {
  // Binary search for the first reference beat at or after sample − tolerance.
  let lo = 0;
  let hi = reference.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reference[mid].sample < sample - tolerance) lo = mid + 1;
    else hi = mid;
  }
  return lo < reference.length && reference[lo].sample <= sample + tolerance ? reference[lo].label : null;
}

/** The strip's SVG markup (see the module comment). */
export function stripSvg(s: StripInput): string {
  const W = s.width ?? 1000;
  const H = s.height ?? 260;
  const m = { l: 44, r: 10, t: 34, b: 40 };
  const w = W - m.l - m.r;
  const h = H - m.t - m.b;
  const start = Math.max(0, Math.floor(s.from * s.sampleRate));
  const end = Math.min(s.signal.length, start + Math.round(s.seconds * s.sampleRate));
  const n = Math.max(1, end - start);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = start; i < end; i++) {
    const v = s.signal[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  const px = (i: number): number => m.l + ((i - start) / n) * w;
  const py = (v: number): number => m.t + (1 - (v - lo) / (hi - lo)) * h;
  // One min/max pair per pixel column.
  const pts: string[] = [];
  const cols = Math.max(1, Math.round(w));
  for (let c = 0; c < cols; c++) {
    const a = start + Math.floor((c * n) / cols);
    const b = Math.max(a + 1, start + Math.floor(((c + 1) * n) / cols));
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (let i = a; i < Math.min(b, end); i++) {
      const v = s.signal[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mn === Number.POSITIVE_INFINITY) continue;
    const x = (m.l + c + 0.5).toFixed(1);
    pts.push(`${x},${py(mx).toFixed(1)}`, `${x},${py(mn).toFixed(1)}`);
  }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="ECG strip">`,
    `<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="#fff7f7" stroke="#e2c6c6"/>`,
  ];
  // Grid: a line every 0.2 s (the ECG paper's large squares).
  for (let t = Math.ceil(s.from / 0.2) * 0.2; t <= s.from + s.seconds + 1e-9; t += 0.2) {
    const x = px(Math.round(t * s.sampleRate));
    const major = Math.abs(t - Math.round(t)) < 1e-6;
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${m.t + h}" stroke="${major ? '#e0a8a8' : '#f3d6d6'}"/>`,
    );
    if (major)
      out.push(
        // The last label ends at the right edge instead of running past it.
        `<text x="${x.toFixed(1)}" y="${m.t + h + 32}" text-anchor="${x > W - m.r - 20 ? 'end' : 'middle'}" fill="#555">${t.toFixed(0)} s</text>`,
      );
  }
  out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#1a202c" stroke-width="1"/>`);
  const tol = Math.round(0.15 * s.sampleRate);
  for (const beat of s.beats) {
    if (beat.sample < start || beat.sample >= end) continue;
    const x = px(beat.sample).toFixed(1);
    const ref = s.reference ? referenceAt(s.reference, beat.sample, tol) : null;
    const differs = ref !== null && ref !== beat.label;
    out.push(
      `<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + h}" stroke="${labelColor(beat.label)}" stroke-opacity="0.35"/>`,
      `<text x="${x}" y="${m.t - 8}" text-anchor="middle" font-weight="600" fill="${labelColor(beat.label)}"><title>${esc(`${(beat.sample / s.sampleRate).toFixed(3)} s: ${beat.label} (p = ${beat.probability.toFixed(3)})`)}</title>${esc(beat.label)}</text>`,
    );
    if (ref !== null)
      out.push(
        `<text x="${x}" y="${m.t + h + 14}" text-anchor="middle" fill="${differs ? '#c53030' : '#718096'}"${differs ? ' font-weight="700"' : ''}>${esc(ref)}</text>`,
      );
  }
  out.push(
    `<text x="6" y="${m.t - 8}" fill="#555">model</text>`,
    s.reference ? `<text x="6" y="${m.t + h + 14}" fill="#555">ref.</text>` : '',
    '</svg>',
  );
  return out.join('');
}
