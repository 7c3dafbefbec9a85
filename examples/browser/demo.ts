/**
 * The browser demo (index.html): load an @ecgnn/infer model file and an ECG (WFDB record or CSV), classify every
 * beat in the page with `classifyRecord` (QRS detection, the model's preprocessing, the model), and draw the
 * strip with predicted and reference labels plus a per-class summary. Nothing leaves the page.
 *
 * Query parameters load files by URL instead of the file pickers (the test uses them; so can a link):
 * `?model=<url>&record=<url of the record without extension>` (fetches `.hea`, the signal files the header
 * names, and `.atr` if present) or `&csv=<url>&rate=<hz>[&column=<c>]`; `&lead=`, `&seconds=` (classify only
 * the first N seconds) and `&from=` (strip start) are optional. The page's state is `window.ecgnnDemo`
 * (`status`: 'idle' | 'running' | 'done' | 'error', `results`, `error`) for scripts and tests.
 */
import { type ClassifierResult, classifyRecord, loadModel, type Model } from '@ecgnn/infer';
import { type EcgInput, readEcgFiles } from './ecg-files.js';
import { labelColor, stripSvg } from './strip.js';

/** What the page exposes on `window.ecgnnDemo`. */
export interface DemoState {
  status: 'idle' | 'running' | 'done' | 'error';
  error: string | null;
  /** Per beat: sample index, label, probability of that label. */
  results: { sample: number; label: string; probability: number }[];
  /** Milliseconds spent classifying. */
  ms: number;
  /** Sampling rate and length of the classified signal. */
  input: { name: string; lead: string; sampleRate: number; samples: number } | null;
}

const state: DemoState = { status: 'idle', error: null, results: [], ms: 0, input: null };
(globalThis as unknown as { ecgnnDemo: DemoState }).ecgnnDemo = state;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The files of a WFDB record at `base` (URL without extension): header, its signal files, `.atr` if served. */
async function fetchRecord(base: string): Promise<Map<string, Uint8Array>> {
  const name = base.slice(base.lastIndexOf('/') + 1);
  const dir = base.slice(0, base.length - name.length);
  const files = new Map<string, Uint8Array>();
  const hea = await fetchBytes(`${base}.hea`);
  if (hea === null) throw new Error(`${base}.hea: not found`);
  files.set(`${name}.hea`, hea);
  // Signal file names: the first field of each signal line of the header.
  const lines = new TextDecoder()
    .decode(hea)
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.startsWith('#'));
  for (const line of lines.slice(1)) {
    const file = line.trim().split(/\s+/)[0];
    if (!files.has(file)) {
      const bytes = await fetchBytes(dir + file);
      if (bytes === null) throw new Error(`${dir + file}: not found (named by ${name}.hea)`);
      files.set(file, bytes);
    }
  }
  const atr = await fetchBytes(`${base}.atr`);
  if (atr !== null) files.set(`${name}.atr`, atr);
  return files;
}

let model: Model | null = null;
let ecg: EcgInput | null = null;

function show(message: string, isError = false): void {
  const el = $('status');
  el.textContent = message;
  el.className = isError ? 'error' : '';
}

function fail(e: unknown): void {
  state.status = 'error';
  state.error = e instanceof Error ? e.message : String(e);
  show(state.error, true);
}

/** Classifies `ecg` with `model` (the first `seconds` if given) and draws the results. */
function run(seconds: number | null, from: number): void {
  if (!model || !ecg) return;
  state.status = 'running';
  const signal = seconds === null ? ecg.signal : ecg.signal.subarray(0, Math.round(seconds * ecg.sampleRate));
  const t0 = performance.now();
  const out: ClassifierResult[] = classifyRecord(model, signal, ecg.sampleRate);
  state.ms = performance.now() - t0;
  state.results = out.map((r) => ({
    sample: r.sample,
    label: r.label,
    probability: r.probabilities[r.classIndex],
  }));
  state.input = { name: ecg.name, lead: ecg.lead, sampleRate: ecg.sampleRate, samples: signal.length };
  const range = $<HTMLInputElement>('from');
  range.max = String(Math.max(0, signal.length / ecg.sampleRate - 10));
  range.value = String(from);
  draw(from, signal);
  summarise(signal.length);
  state.status = 'done';
  show(
    `${ecg.name} (${ecg.lead}, ${ecg.sampleRate} Hz): ${out.length} beats in ${(signal.length / ecg.sampleRate).toFixed(1)} s of signal, classified in ${state.ms.toFixed(0)} ms`,
  );
}

function draw(from: number, signal: Float32Array): void {
  if (!ecg) return;
  $('strip').innerHTML = stripSvg({
    signal,
    sampleRate: ecg.sampleRate,
    from,
    seconds: 10,
    beats: state.results,
    reference: ecg.reference,
  });
}

/** The per-class table: predicted counts, and reference counts over the classified span when known. */
function summarise(samples: number): void {
  if (!model) return;
  const predicted = new Map<string, number>();
  for (const r of state.results) predicted.set(r.label, (predicted.get(r.label) ?? 0) + 1);
  const reference = new Map<string, number>();
  for (const r of ecg?.reference ?? [])
    if (r.sample < samples) reference.set(r.label, (reference.get(r.label) ?? 0) + 1);
  const rows = model.metadata.classes.map(
    (c) =>
      `<tr><td><span class="dot" style="background:${labelColor(c)}"></span>${c}</td><td>${predicted.get(c) ?? 0}</td>${ecg?.reference ? `<td>${reference.get(c) ?? 0}</td>` : ''}</tr>`,
  );
  $('summary').innerHTML =
    `<table><thead><tr><th>class</th><th>model</th>${ecg?.reference ? '<th>reference</th>' : ''}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

async function filesOf(list: FileList): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const f of Array.from(list)) files.set(f.name, new Uint8Array(await f.arrayBuffer()));
  return files;
}

function optionsFromForm() {
  const rate = Number($<HTMLInputElement>('rate').value);
  const column = $<HTMLInputElement>('column').value.trim();
  const lead = $<HTMLInputElement>('lead').value.trim();
  return {
    sampleRate: rate > 0 ? rate : undefined,
    column: column === '' ? undefined : column,
    lead: lead === '' ? 0 : /^\d+$/.test(lead) ? Number(lead) : lead,
  };
}

async function fromQuery(q: URLSearchParams): Promise<void> {
  const modelUrl = q.get('model');
  if (!modelUrl) return;
  state.status = 'running';
  show('loading…');
  const bytes = await fetchBytes(modelUrl);
  if (bytes === null) throw new Error(`${modelUrl}: not found`);
  model = loadModel(bytes);
  const record = q.get('record');
  const csv = q.get('csv');
  const lead = q.get('lead');
  if (record) {
    ecg = readEcgFiles(await fetchRecord(record), {
      lead: lead === null ? 0 : /^\d+$/.test(lead) ? Number(lead) : lead,
    });
  } else if (csv) {
    const data = await fetchBytes(csv);
    if (data === null) throw new Error(`${csv}: not found`);
    const name = csv.slice(csv.lastIndexOf('/') + 1);
    ecg = readEcgFiles(new Map([[name.endsWith('.csv') ? name : `${name}.csv`, data]]), {
      sampleRate: Number(q.get('rate')),
      column: q.get('column') ?? undefined,
    });
  } else throw new Error('give record=<url> or csv=<url>&rate=<hz> with model=<url>');
  const seconds = q.get('seconds');
  run(seconds === null ? null : Number(seconds), Number(q.get('from') ?? 0));
}

function wire(): void {
  $<HTMLInputElement>('model-file').addEventListener('change', async (ev) => {
    try {
      const f = (ev.target as HTMLInputElement).files?.[0];
      if (!f) return;
      model = loadModel(new Uint8Array(await f.arrayBuffer()));
      $('model-info').textContent = `${model.metadata.name}: classes ${model.metadata.classes.join(', ')}`;
      run(null, 0);
    } catch (e) {
      fail(e);
    }
  });
  $<HTMLInputElement>('ecg-files').addEventListener('change', async (ev) => {
    try {
      const list = (ev.target as HTMLInputElement).files;
      if (!list || list.length === 0) return;
      ecg = readEcgFiles(await filesOf(list), optionsFromForm());
      if (!model) show('ECG loaded: now choose a model file');
      run(null, 0);
    } catch (e) {
      fail(e);
    }
  });
  $<HTMLInputElement>('from').addEventListener('input', (ev) => {
    if (!ecg || state.input === null) return;
    draw(Number((ev.target as HTMLInputElement).value), ecg.signal.subarray(0, state.input.samples));
  });
}

wire();
fromQuery(new URLSearchParams(location.search)).catch(fail);
