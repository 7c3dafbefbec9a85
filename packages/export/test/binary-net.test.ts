/**
 * Method 5's binary network (built here from core modules: @ecgnn/export does not depend on @ecgnn/models)
 * exported bit-packed with `sumOverTimeEmitter`: @ecgnn/infer's predictions equal core's evaluation-mode
 * predictions on random inputs (0 mismatches, logits within float rounding), the folded graph is the expected
 * one, and `modelStorage` accounts for every byte of the file.
 */
import { Generator, nn, sum, type Tensor } from '@ecgnn/core';
import { loadModel, readModel, THRESHOLD_ALWAYS, THRESHOLD_NEVER } from '@ecgnn/infer';
import { describe, expect, test } from 'vitest';
import {
  type Emitter,
  ExportError,
  exportModelBytes,
  modelStorage,
  sumOverTimeEmitter,
} from '../src/index.js';
import { coreOutput, expectClose, inferLogits, randomTensor } from './helpers.js';

/** The method's architecture: 6 × [pad +1, conv k7, max-pool 7/2, PReLU, BN], dropout, sum over time. */
class MethodNet extends nn.Module {
  declare readonly features: nn.Sequential;
  declare readonly drop: nn.Dropout;

  constructor(chans: readonly number[], binary: boolean, g: Generator) {
    super();
    const trunk = new nn.Sequential();
    for (let b = 0; b + 1 < chans.length; b++) {
      const common = { padding: 5, padValue: 1, stride: b === 0 ? 2 : 1, generator: g };
      const conv = binary
        ? new nn.BinaryConv1d(chans[b], chans[b + 1], 7, {
            ...common,
            inputQuantizer: b === 0 ? 'none' : 'steSign',
          })
        : new nn.Conv1d(chans[b], chans[b + 1], 7, { ...common, bias: false });
      for (const m of [
        conv,
        new nn.MaxPool1d(7, { stride: 2 }),
        new nn.PReLU({ numParameters: chans[b + 1] }),
        new nn.BatchNorm1d(chans[b + 1]),
      ])
        trunk.append(m);
    }
    this.registerModule('features', trunk);
    this.registerModule('drop', new nn.Dropout(0.3, { generator: g }));
  }

  forward(x: Tensor): Tensor {
    return sum(this.drop.call(this.features.call(x)), 2);
  }
}

const CHANNELS = [1, 8, 16, 32, 32, 64, 17];
const emitter = sumOverTimeEmitter<MethodNet>((m) => ({ trunk: m.features, drop: m.drop }));

/**
 * Random trained-looking parameters: PReLU slopes in [0.05, 0.5] (or some negative with `negativeSlopes`),
 * BatchNorm statistics around each block's output scale (so the signs are not constant), γ of both signs.
 */
function randomize(net: MethodNet, g: Generator, x: Tensor, negativeSlopes = false): void {
  const mods = [...net.features.children()];
  net.eval();
  let v = x;
  for (const m of mods) {
    if (m instanceof nn.PReLU) {
      for (let c = 0; c < m.numSlopes; c++) {
        m.weight.data[c] = negativeSlopes && c % 3 === 0 ? -0.2 - 0.3 * g.random() : 0.05 + 0.45 * g.random();
      }
    }
    if (m instanceof nn.BatchNorm1d) {
      // Statistics of this block's actual input (so thresholds fall inside the reachable dots).
      const [N, C, L] = v.shape;
      for (let c = 0; c < C; c++) {
        let s = 0;
        let s2 = 0;
        for (let n = 0; n < N; n++)
          for (let t = 0; t < L; t++) {
            const y = v.data[(n * C + c) * L + t];
            s += y;
            s2 += y * y;
          }
        const mean = s / (N * L);
        (m.runningMean as Tensor).data[c] = mean + 0.3 * g.normal();
        (m.runningVar as Tensor).data[c] = Math.max(1e-3, s2 / (N * L) - mean * mean) * (0.5 + g.random());
        (m.weight as Tensor).data[c] = (g.random() < 0.3 ? -1 : 1) * (0.5 + g.random());
        (m.bias as Tensor).data[c] = 0.3 * g.normal();
      }
    }
    v = m.call(v) as Tensor;
  }
}

function exportNet(net: MethodNet, length: number): Uint8Array {
  return exportModelBytes(net, {
    inputs: [{ name: 'x', shape: [1, length] }],
    classes: CHANNELS.slice(-1).flatMap((k) => Array.from({ length: k }, (_, i) => `c${i}`)),
    input: { sampleRate: 360 },
    outputActivation: 'none',
    emitters: new Map([[net, emitter as Emitter]]),
  });
}

function argmax(rows: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length / k; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (rows[i * k + j] > rows[i * k + best]) best = j;
    out.push(best);
  }
  return out;
}

/** Core vs infer on `batch` random windows: the number of differing predictions, and the logits checked. */
function compare(net: MethodNet, bytes: Uint8Array, x: Tensor, rel: number): number {
  const want = coreOutput(net, [x]);
  const got = inferLogits(loadModel(bytes), { x: x.data as Float32Array });
  expectClose(got, want, rel);
  const K = CHANNELS[CHANNELS.length - 1];
  const a = argmax(want, K);
  const b = argmax(got, K);
  // A meaningful comparison: the random network does not predict one class for everything.
  expect(new Set(a).size).toBeGreaterThanOrEqual(3);
  return a.filter((p, i) => p !== b[i]).length;
}

const ops = (bytes: Uint8Array): string[] => readModel(bytes).header.graph.nodes.map((n) => n.op);

describe('method 5 binary network', () => {
  const L = 3600;
  const g = new Generator(2023);
  const net = new MethodNet(CHANNELS, true, g);
  const calib = randomTensor([8, 1, L], g);
  randomize(net, g, calib);
  const bytes = exportNet(net, L);

  test('infer predictions equal core eval-mode predictions on 48 random windows (folded thresholds)', () => {
    expect(compare(net, bytes, randomTensor([48, 1, L], new Generator(7)), 1e-4)).toBe(0);
    // Block 1: float conv on bits weights + float epilogue + sign; blocks 2–5 folded; block 6 integer dots.
    expect(ops(bytes)).toEqual([
      'conv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sign',
      'binaryConv1d',
      'binaryConv1d',
      'binaryConv1d',
      'binaryConv1d',
      'binaryConv1d',
      'maxPool1d',
      'prelu',
      'batchNorm',
      'sumOverTime',
    ]);
    const nodes = readModel(bytes).header.graph.nodes;
    const folded = nodes.filter((n) => n.op === 'binaryConv1d' && n.tensors?.threshold !== undefined);
    expect(folded).toHaveLength(4);
    const file = readModel(bytes);
    for (const n of folded) {
      expect(n.attrs?.pool).toEqual({ kernelSize: 7, stride: 2 });
      // Thresholds inside the reachable dots, not constant outputs (THRESHOLD_ALWAYS / NEVER).
      const t = file.tensors.get(n.tensors?.threshold as string)?.data as ArrayLike<number>;
      const inside = Array.from(t).filter((v) => v > THRESHOLD_ALWAYS && v < THRESHOLD_NEVER);
      expect(inside.length).toBeGreaterThan(t.length / 2);
    }
  });

  test('storage accounting: 33,656 weight bits, thresholds of blocks 2–5, floats of blocks 1 and 6', () => {
    const s = modelStorage(bytes);
    const bits = CHANNELS.slice(1).reduce((n, c, i) => n + CHANNELS[i] * c * 7, 0);
    expect(bits).toBe(33_656);
    expect(s.binaryWeights).toEqual({
      tensors: 6,
      values: bits,
      // Packed along input channels in u32 words: O·K·⌈C/32⌉ words per weight.
      bytes: CHANNELS.slice(1).reduce((n, c, i) => n + 4 * c * 7 * Math.ceil(CHANNELS[i] / 32), 0),
    });
    const foldedChannels = 16 + 32 + 32 + 64;
    expect(s.thresholds).toEqual({ tensors: 8, values: 2 * foldedChannels, bytes: 8 * foldedChannels });
    // Block 1 (8 channels) and block 6 (17): PReLU slopes + BatchNorm mean, var, γ, β, float32.
    expect(s.floats).toEqual({ tensors: 10, values: 5 * (8 + 17), bytes: 20 * (8 + 17) });
    expect(s.parameterBytes).toBe(Math.ceil(bits / 8) + 8 * foldedChannels + 20 * 25);
    const parts =
      s.headerBytes +
      s.alignmentBytes +
      s.checksumBytes +
      s.binaryWeights.bytes +
      s.thresholds.bytes +
      s.floats.bytes;
    expect(parts).toBe(bytes.length);
    expect(s.fileBytes).toBe(bytes.length);
    // The header is 16 fixed bytes and JSON; alignment pads the blob and each of the 24 tensors to 64 bytes.
    const H = s.headerBytes - 16;
    expect(() => JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + H)))).not.toThrow();
    expect(s.alignmentBytes).toBeGreaterThanOrEqual(0);
    expect(s.alignmentBytes).toBeLessThan(64 * 25);
  });

  test('negative PReLU slopes: the sign is not monotone, blocks stay unfolded, predictions still equal', () => {
    const g2 = new Generator(11);
    const neg = new MethodNet(CHANNELS, true, g2);
    randomize(neg, g2, randomTensor([8, 1, L], g2), true);
    const b = exportNet(neg, L);
    expect(ops(b).filter((o) => o === 'sign')).toHaveLength(5);
    expect(modelStorage(b).thresholds.tensors).toBe(0);
    expect(compare(neg, b, randomTensor([24, 1, L], new Generator(8)), 1e-4)).toBe(0);
  });

  test('the float twin: float conv weights only, the same predictions', () => {
    const g3 = new Generator(12);
    const twin = new MethodNet(CHANNELS, false, g3);
    randomize(twin, g3, randomTensor([8, 1, L], g3));
    const b = exportNet(twin, L);
    const s = modelStorage(b);
    expect(s.binaryWeights.tensors).toBe(0);
    expect(s.floats.values).toBe(33_656 + 5 * (8 + 16 + 32 + 32 + 64 + 17));
    expect(compare(twin, b, randomTensor([24, 1, L], new Generator(9)), 1e-4)).toBe(0);
  });

  test('sumOverTimeEmitter needs one float [C, L] input', () => {
    const two = exportModelBytes.bind(null, net, {
      inputs: [
        { name: 'x', shape: [1, L] },
        { name: 'y', shape: [1, L] },
      ],
      classes: ['a'],
      input: { sampleRate: 360 },
      emitters: new Map([[net, emitter as Emitter]]),
    });
    expect(two).toThrow(ExportError);
    expect(two).toThrow(/one input/);
  });
});
