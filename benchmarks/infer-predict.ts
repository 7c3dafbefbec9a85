// Benchmark: end-to-end `predict` latency of @ecgnn/infer on the method 5 binary network (Pu et al. 2023:
// 1→8→16→32→32→64→5 channels, kernel 7, 3600-sample window), batch 1, single thread, random weights.
// Compares the fused path (binary conv → maxpool → PReLU → BN → sign folded into integer thresholds, packed
// activations) with the same graph kept unfused (float epilogue then sign). Medians of interleaved rounds.
// Run: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-predict.ts [--quick]
import os from 'node:os';
import { loadModel, type ModelSpec, type NodeSpec, saveModel, type TensorSpec } from '@ecgnn/infer';

const quick = process.argv.includes('--quick');

let seed = 1;
function rnd(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
const vec = (n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());

function method5(fused: boolean): ModelSpec {
  seed = 1; // same weights for both variants
  const ch = [1, 8, 16, 32, 32, 64, 5];
  const nodes: NodeSpec[] = [];
  const tensors: TensorSpec[] = [];
  let prev = 'x';
  for (let b = 0; b < 6; b++) {
    const [cin, cout] = [ch[b], ch[b + 1]];
    const p = `b${b}`;
    tensors.push(
      { name: `${p}.w`, shape: [cout, cin, 7], data: vec(cout * cin * 7, -1, 1), dtype: 'bits' },
      { name: `${p}.a`, shape: [cout], data: vec(cout, 0.05, 0.4) },
      { name: `${p}.m`, shape: [cout], data: vec(cout, -3, 3) },
      { name: `${p}.v`, shape: [cout], data: vec(cout, 1, 20) },
      { name: `${p}.g`, shape: [cout], data: vec(cout, -1, 1) },
      { name: `${p}.b`, shape: [cout], data: vec(cout, -0.3, 0.3) },
    );
    if (b === 0) {
      nodes.push({
        op: 'conv1d',
        inputs: [prev],
        outputs: [`${p}.c`],
        attrs: { stride: 2, padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    } else {
      nodes.push({ op: 'sign', inputs: [prev], outputs: [`${p}.s`] });
      // Unfused variant: a second consumer of the BN output blocks the fusion pattern.
      if (!fused) nodes.push({ op: 'identity', inputs: [prev], outputs: [`${p}.keep`] });
      nodes.push({
        op: 'binaryConv1d',
        inputs: [`${p}.s`],
        outputs: [`${p}.c`],
        attrs: { padding: 5, padValue: 1 },
        tensors: { weight: `${p}.w` },
      });
    }
    nodes.push(
      { op: 'maxPool1d', inputs: [`${p}.c`], outputs: [`${p}.p`], attrs: { kernelSize: 7, stride: 2 } },
      { op: 'prelu', inputs: [`${p}.p`], outputs: [`${p}.r`], tensors: { weight: `${p}.a` } },
      {
        op: 'batchNorm',
        inputs: [`${p}.r`],
        outputs: [`${p}.n`],
        tensors: { mean: `${p}.m`, var: `${p}.v`, weight: `${p}.g`, bias: `${p}.b` },
      },
    );
    prev = `${p}.n`;
  }
  nodes.push({ op: 'sumOverTime', inputs: [prev], outputs: ['logits'] });
  return {
    input: { channels: 1, length: 3600, sampleRate: 360 },
    classes: ['N', 'S', 'V', 'F', 'Q'],
    outputActivation: 'softmax',
    graph: { input: 'x', output: 'logits', nodes },
    tensors,
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

const fusedBytes = saveModel(method5(true));
const fused = loadModel(fusedBytes);
const plain = loadModel(saveModel(method5(false)));
const x = vec(3600, -2, 2);
const out = new Float32Array(5);
const a = Array.from(fused.logits(x));
const b = Array.from(plain.logits(x));
if (a.some((v, i) => v !== b[i])) throw new Error('fused and unfused logits differ');

const fns = [() => fused.predict(x, undefined, out), () => plain.predict(x, undefined, out)];
const inner = 50;
for (const f of fns) for (let i = 0; i < 3 * inner; i++) f();
const samples: number[][] = [[], []];
const reps = quick ? 7 : 25;
for (let r = 0; r < reps; r++) {
  fns.forEach((f, k) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) f();
    samples[k].push(Number(process.hrtime.bigint() - t0) / inner / 1e6);
  });
}
const [tf, tp] = samples.map(median);
console.log('# @ecgnn/infer predict latency, method 5 binary network, batch 1, 1 thread');
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`);
console.log(
  `command: pnpm exec tsx --conditions=@ecgnn/source benchmarks/infer-predict.ts${quick ? ' --quick' : ''}`,
);
console.log(`median of ${reps} interleaved rounds × ${inner} calls; model file ${fusedBytes.length} bytes`);
console.log(`plan (fused): ${fused.metadata.plan.join(', ')}`);
console.log(
  `| path | ms / window |\n|---|---|\n| fused (packed, integer thresholds) | ${tf.toFixed(3)} |\n| unfused (float epilogue, then sign) | ${tp.toFixed(3)} |`,
);
