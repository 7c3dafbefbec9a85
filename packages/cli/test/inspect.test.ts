// `ecgnn inspect` on a model file written here with @ecgnn/infer's writer, and on bad files.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GraphSpecV1, loadModel, saveModel } from '@ecgnn/infer';
import { writeModelFile } from '@ecgnn/infer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, type ModelInfo } from '../src/index.js';
import { beatModelSpec, cli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-inspect-'));
const file = join(tmp, 'beat.ecgnn');
const spec = beatModelSpec(7);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await writeModelFile(file, spec);
});

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('ecgnn inspect', () => {
  it('--json reports what the file holds: inputs, outputs, classes, layers, parameters, bytes, provenance', async () => {
    const r = await cli('inspect', file, '--json');
    expect(r.code).toBe(EXIT_OK);
    const info = JSON.parse(r.out) as ModelInfo;
    expect(info.file).toBe(file);
    expect(info.bytes).toBe(statSync(file).size);
    expect(info.formatVersion).toBe(2);
    expect(info.name).toBe(spec.name);
    expect(info.classes).toEqual(spec.classes);
    expect(info.outputActivation).toBe('softmax');
    expect(info.sampleRate).toBe(spec.input.sampleRate);
    expect(info.windowing).toEqual(spec.windowing);
    expect(info.inputs).toEqual([{ name: 'x', shape: [1, spec.input.length], source: { kind: 'window' } }]);
    expect(info.outputs).toEqual([{ name: 'y', shape: [spec.classes.length] }]);
    const nodes = (spec.graph as GraphSpecV1).nodes;
    expect(info.layers.map((l) => l.op)).toEqual(nodes.map((n) => n.op));
    // conv: 4 filters over the whole window ("valid": 90 − 5 + 1 = 86 positions), then pooled to [4].
    expect(info.layers[0].output).toEqual({ name: 'c', shape: [4, 86], kind: 'float' });
    expect(info.layers[2].output.shape).toEqual([4]);
    expect(info.layers[0].tensors.weight).toEqual({ name: 'w', shape: [4, 1, 5], dtype: 'float32' });
    const total = spec.tensors.reduce((a, t) => a + elements(t.shape), 0);
    expect(info.tensors.parameters).toBe(total);
    expect(info.layers.reduce((a, l) => a + l.parameters, 0)).toBe(total);
    expect(info.tensors.count).toBe(spec.tensors.length);
    expect(info.tensors.bytes).toBe(4 * total);
    expect(info.provenance).toEqual(spec.provenance);
    // The plan is the runtime's own (conv and ReLU fused), not a copy of the nodes.
    expect(info.plan.map((p) => p.op)).toEqual(loadModel(saveModel(spec)).metadata.plan);
    expect(info.plan.length).toBeLessThan(nodes.length);
  });

  it('prints the same facts as text', async () => {
    const r = await cli('inspect', file);
    expect(r.code).toBe(EXIT_OK);
    const total = spec.tensors.reduce((a, t) => a + elements(t.shape), 0);
    expect(r.out).toContain(`${statSync(file).size} bytes`);
    expect(r.out).toContain(`parameters: ${total} in ${spec.tensors.length} tensors`);
    expect(r.out).toContain('classes (3): N S V');
    expect(r.out).toMatch(/x \[1, 90\] source \{"kind":"window"\}/);
    for (const op of ['conv1d', 'relu', 'globalMaxPool1d', 'linear']) expect(r.out).toContain(op);
    expect(r.out).toContain('purpose: cli test');
  });

  it('a missing file exits 1 naming the path', async () => {
    const missing = join(tmp, 'nope.ecgnn');
    const r = await cli('inspect', missing);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(missing);
    expect(r.err).not.toContain('    at '); // no stack trace for a user error
  });

  it('a corrupt file exits 1 with the reader’s error and the path', async () => {
    const bad = join(tmp, 'bad.ecgnn');
    const bytes = saveModel(spec);
    bytes[bytes.length - 1] ^= 0xff; // the blob's checksum no longer matches
    writeFileSync(bad, bytes);
    const r = await cli('inspect', bad, '--json');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  });
});
