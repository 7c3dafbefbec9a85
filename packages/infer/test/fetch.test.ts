// loadModelFromUrl against a local HTTP server (a model, a 404, a malformed file, a closed port) and topLabel on
// fixed probabilities.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InferError,
  loadModel,
  loadModelFromUrl,
  ModelFetchError,
  ModelFormatError,
  ShapeError,
  saveModel,
  topLabel,
} from '../src/index.js';
import { method5Spec } from './fixtures.js';

const bytes = saveModel(method5Spec({ length: 720, seed: 3 }));
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/model.ecgnn') res.writeHead(200).end(bytes);
    else if (req.url === '/bad.ecgnn') res.writeHead(200).end(new Uint8Array(64));
    else res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('loadModelFromUrl', () => {
  it('loads what loadModel loads from the same bytes', async () => {
    const model = await loadModelFromUrl(`${base}/model.ecgnn`, { kernels: 'typescript' });
    const x = Float32Array.from({ length: 720 }, (_, i) => Math.cos(i / 5));
    expect(model.metadata.kernels).toBe('typescript');
    expect(Array.from(model.logits(x))).toEqual(
      Array.from(loadModel(bytes, { kernels: 'typescript' }).logits(x)),
    );
    // A URL object works too.
    expect((await loadModelFromUrl(new URL('/model.ecgnn', base))).metadata.classes).toEqual(
      model.metadata.classes,
    );
  });

  it('an HTTP error status is a ModelFetchError naming the URL and the status', async () => {
    const url = `${base}/missing.ecgnn`;
    const err = await loadModelFromUrl(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFetchError);
    expect(err).toBeInstanceOf(InferError);
    expect(err).toMatchObject({ name: 'ModelFetchError', url, status: 404 });
    expect((err as Error).message).toBe(`${url}: HTTP 404`);
  });

  it('no answer (closed port, malformed URL) is a ModelFetchError without a status', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/model.ecgnn`;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await loadModelFromUrl(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFetchError);
    expect(err).toMatchObject({ url, status: undefined });
    expect((err as Error).message).toMatch(new RegExp(`^${url.replace(/[.]/g, '\\.')}: fetch failed: `));
    await expect(loadModelFromUrl('not a url')).rejects.toMatchObject({
      name: 'ModelFetchError',
      url: 'not a url',
    });
  });

  it('malformed bytes are the ModelFormatError of loadModel', async () => {
    await expect(loadModelFromUrl(`${base}/bad.ecgnn`)).rejects.toBeInstanceOf(ModelFormatError);
  });
});

describe('topLabel', () => {
  const model = loadModel(bytes);
  const classes = model.metadata.classes;
  const n = classes.length;

  it('the largest value of the chosen window, its class name and index; ties go to the lower index', () => {
    const p = new Float32Array(3 * n).fill(0.1);
    p[n + n - 1] = 0.7; // window 1: the last class
    p[2 * n + 1] = 0.5; // window 2: a tie between classes 1 and 2
    p[2 * n + 2] = 0.5;
    expect(topLabel(model, p)).toEqual({ label: classes[0], index: 0, probability: p[0] });
    expect(topLabel(model, p, 1)).toEqual({ label: classes[n - 1], index: n - 1, probability: p[2 * n - 1] });
    expect(topLabel(model, p, 2)).toEqual({ label: classes[1], index: 1, probability: 0.5 });
  });

  it('agrees with predict on a real call', () => {
    const x = Float32Array.from({ length: 2 * 720 }, (_, i) => Math.sin(i / 9));
    const probs = model.predict(x, [2, 1, 720]);
    const top = topLabel(model, probs, 1);
    const row = Array.from(probs.subarray(n, 2 * n));
    expect(top.probability).toBe(Math.max(...row));
    expect(top.index).toBe(row.indexOf(top.probability));
  });

  it('a window outside the array, or not a whole number, is a ShapeError', () => {
    const p = new Float32Array(2 * n);
    expect(() => topLabel(model, p, 2)).toThrow(ShapeError);
    expect(() => topLabel(model, p, -1)).toThrow(/no window -1/);
    expect(() => topLabel(model, p, 0.5)).toThrow(ShapeError);
    expect(() => topLabel(model, new Float32Array(n - 1))).toThrow(ShapeError);
  });
});
