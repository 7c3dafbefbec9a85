// Test helpers of @ecgnn/cli: the program run in-process with captured output, a small model file, a local
// HTTP server over a folder, and the MIT-BIH presence rule (run when present, fail when CI=true and absent).
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Generator } from '@ecgnn/core';
import { dataDir, hasDatabase } from '@ecgnn/data';
import type { ModelSpec } from '@ecgnn/infer';
import { run } from '../src/index.js';

/** Exit code and everything written to stdout and stderr by one run. */
export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs `ecgnn ...argv` in-process. */
export async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** Whether MIT-BIH is in the default data directory; tests needing it run when present or when CI=true. */
export const mitdbPresent = hasDatabase('mitdb');
/** Run data tests: MIT-BIH present, or CI (where its absence must fail, not skip). */
export const runDataTests = mitdbPresent || process.env.CI === 'true';
if (!runDataTests)
  console.warn(`@ecgnn/cli tests: skipping MIT-BIH tests: no mitdb in ${dataDir()} (set ECGNN_DATA)`);

/**
 * A small beat model: 0.5 s windows at 180 Hz around the R peak (36 samples before it), conv (4 filters of 5) →
 * ReLU → global max pool → linear → softmax over N, S, V. Random weights: the labels mean nothing.
 */
export function beatModelSpec(seed = 21): ModelSpec {
  const g = new Generator(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => g.random() - 0.5);
  return {
    name: 'cli-test-beat',
    input: { channels: 1, length: 90, sampleRate: 180 },
    classes: ['N', 'S', 'V'],
    outputActivation: 'softmax',
    preprocessing: { removeBaseline: true, bandpass: [0.5, 40], normalize: 'zscore' },
    windowing: { mode: 'beat', before: 36 },
    provenance: { seed, purpose: 'cli test', trainRecords: ['101', '106'] },
    graph: {
      input: 'x',
      output: 'y',
      nodes: [
        { op: 'conv1d', inputs: ['x'], outputs: ['c'], tensors: { weight: 'w', bias: 'b' } },
        { op: 'relu', inputs: ['c'], outputs: ['a'] },
        { op: 'globalMaxPool1d', inputs: ['a'], outputs: ['g'] },
        { op: 'linear', inputs: ['g'], outputs: ['y'], tensors: { weight: 'fc' } },
      ],
    },
    tensors: [
      { name: 'w', shape: [4, 1, 5], data: values(20) },
      { name: 'b', shape: [4], data: values(4) },
      { name: 'fc', shape: [3, 4], data: values(12) },
    ],
  };
}

/** A local HTTP server over folder `src` (`SHA256SUMS.txt` is served from `SHA256SUMS`); `status` forces a reply. */
export async function serveFolder(
  src: string,
  status?: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (status !== undefined) {
      res.writeHead(status).end('forced');
      return;
    }
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
    const file = join(src, name === 'SHA256SUMS.txt' ? 'SHA256SUMS' : name);
    if (name.includes('..') || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
