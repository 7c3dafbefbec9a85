/**
 * Extending ecgnn: a new differentiable op with its own gradient, a new layer built on it, and the layer's export
 * emitter (how it becomes a node of an @ecgnn/infer model graph).
 *
 *   pnpm exec tsx --conditions=@ecgnn/source examples/extending/custom-layer.ts
 *
 * Walked through in docs/extending.md; run by packages/core/test/extending.test.ts.
 */
import { pathToFileURL } from 'node:url';
import {
  abs,
  add,
  crossEntropy,
  defineOp,
  div,
  Generator,
  gradcheck,
  mul,
  nn,
  optim,
  Parameter,
  randn,
  type Tensor,
  tensor,
} from '@ecgnn/core';
import { exportModel, registerExporter } from '@ecgnn/export';
import { ModelFormatError, saveModel } from '@ecgnn/infer';

// ---------------------------------------------------------------------------------------------------------
// 1. A differentiable op with a hand-written gradient.
//
// softsign(x) = x / (1 + |x|), d/dx = 1 / (1 + |x|)². The forward runs with gradient recording off, so it
// may use any ops; `save` keeps what the backward needs. The backward maps the output gradient g to one
// gradient per input (same shape), here g / (1 + |x|)².

/** softsign(x) = x / (1 + |x|), with its exact gradient. */
export const softsign = defineOp<[Tensor], Tensor>({
  name: 'softsign',
  forward: ([x], save) => {
    const denom = add(abs(x), 1);
    save(denom);
    return div(x, denom);
  },
  backward: (g, { saved: denom }) => [div(g, mul(denom, denom))],
});

// ---------------------------------------------------------------------------------------------------------
// 2. A layer: state in the module (registered by name), computation in the functional ops.
//
// AdaptiveSoftsign1d: y[n, c, t] = β_c · softsign(γ_c · x[n, c, t]) with learned per-channel gain γ and
// scale β, for NCL input. `declare` gives the registered members their TypeScript types.

/** Per-channel learned softsign: y = β_c·softsign(γ_c·x) on `[N, C, L]` input. */
export class AdaptiveSoftsign1d extends nn.Module {
  /** State-dict format version; bump it and override migrateStateDict when the layout changes. */
  static override version = 1;
  /** Input gain γ, `[C, 1]` (broadcasts over the length). */
  declare readonly gain: Tensor;
  /** Output scale β, `[C, 1]`. */
  declare readonly scale: Tensor;

  /** Creates the layer for `channels` channels; γ = β = 1 initially. */
  constructor(readonly channels: number) {
    super();
    this.registerParameter('gain', new Parameter(tensor(new Array(channels).fill(1), [channels, 1])));
    this.registerParameter('scale', new Parameter(tensor(new Array(channels).fill(1), [channels, 1])));
  }

  /** `[N, C, L]` → `[N, C, L]`. */
  forward(x: Tensor): Tensor {
    return mul(this.scale, softsign(mul(x, this.gain)));
  }

  /** Shown inside the parentheses by toString(). */
  override extraRepr(): string {
    return `channels=${this.channels}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// 3. Its export emitter: how the layer becomes a node of an @ecgnn/infer graph.
//
// The emitter receives the layer, the name of its input value and its path in the model; it adds the layer's
// tensors and one node, and returns the node's output value. Nothing in @ecgnn/infer computes softsign yet, so
// the node names the op the layer needs; infer refuses the file until that op is in its op table (the last step
// of the route in docs/extending.md). A layer made of maths infer already has would instead emit those ops, or
// compose the built-in emitters with `ctx.emit` (see `emitPooledClassifier` in
// packages/train/src/export.ts for the classifiers of @ecgnn/models).

registerExporter(AdaptiveSoftsign1d, (ctx, layer, [x], path) => {
  const g = ctx.graph;
  const C = layer.channels;
  return g.node('adaptiveSoftsign', [x], path, {
    tensors: {
      gain: g.floatTensor(`${path}.gain`, [C], layer.gain.data, 'param'),
      scale: g.floatTensor(`${path}.scale`, [C], layer.scale.data, 'param'),
    },
    // The exporter's shape table knows infer's ops only; a new op states its output (here: the input's shape).
    output: g.info(x),
  });
});

// ---------------------------------------------------------------------------------------------------------
// 4. Check it, use it, train it, save and restore it, export it.

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`custom-layer example: ${what}`);
}

/** Runs the walk-through; throws if any check fails. Returns figures for the caller to print. */
export function main(): {
  maxGradError: number;
  accuracy: number;
  summary: string;
  exported: string;
  refused: string;
} {
  // Forward on fixed values: softsign(−3) = −0.75, softsign(1) = 0.5.
  const y = softsign(tensor([-3, 0, 1]));
  check(Array.from(y.data).join(',') === '-0.75,0,0.5', `softsign forward gave ${Array.from(y.data)}`);

  // Gradient checks in float64 against central finite differences: the op alone, then the layer
  // (with respect to its input and both parameters, via nn.functionalCall).
  const gen = new Generator(0);
  let maxGradError = gradcheck((x) => softsign(x), [randn([4, 5], { dtype: 'float64', generator: gen })]);
  const layer = new AdaptiveSoftsign1d(3).to('float64');
  maxGradError = Math.max(
    maxGradError,
    gradcheck(
      (x, gain, scale) => nn.functionalCall(layer, { gain, scale }, x),
      [
        randn([2, 3, 4], { dtype: 'float64', generator: gen }),
        randn([3, 1], { dtype: 'float64', generator: gen }),
        randn([3, 1], { dtype: 'float64', generator: gen }),
      ],
    ),
  );

  // Use it in a model and train: classify whether a signal's mean is positive.
  const model = new nn.Sequential(
    new nn.Conv1d(1, 3, 5, { padding: 2, generator: gen }),
    new AdaptiveSoftsign1d(3),
    new nn.GlobalAvgPool1d(),
    new nn.Linear(3, 2, { generator: gen }),
  );
  const n = 64;
  const x = randn([n, 1, 16], { generator: gen });
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < 16; t++) s += x.data[i * 16 + t];
    labels[i] = s > 0 ? 1 : 0;
  }
  const target = tensor(labels, [n], { dtype: 'int32' });
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  for (let step = 0; step < 150; step++) {
    opt.zeroGrad();
    crossEntropy(model.call(x), target).backward();
    opt.step();
  }
  model.eval();
  const logits = model.call(x);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const pred = logits.data[2 * i + 1] > logits.data[2 * i] ? 1 : 0;
    if (pred === labels[i]) correct++;
  }
  const accuracy = correct / n;
  check(accuracy >= 0.95, `training reached only ${accuracy}`);

  // The new layer's parameters are in the state dict under dotted names; a fresh model restores exactly.
  const sd = model.stateDict();
  check('1.gain' in sd && '1.scale' in sd, 'state dict lacks the layer parameters');
  const copy = new nn.Sequential(
    new nn.Conv1d(1, 3, 5, { padding: 2 }),
    new AdaptiveSoftsign1d(3),
    new nn.GlobalAvgPool1d(),
    new nn.Linear(3, 2),
  ).eval();
  copy.loadStateDict(sd);
  check(
    Array.from(copy.call(x).data).every((v, i) => v === logits.data[i]),
    'restored model gives different outputs',
  );

  // The export: the graph has the layer's node between the built-in layers' ones (with its trained γ and β);
  // infer's reader refuses it, naming the node, until the op exists in @ecgnn/infer.
  const spec = exportModel(model, {
    inputs: [{ name: 'x', shape: [1, 16] }],
    classes: ['mean ≤ 0', 'mean > 0'],
    input: { sampleRate: 16 },
  });
  const exported = spec.graph.nodes.map((node) => node.op).join(' → ');
  check(exported === 'conv1d → adaptiveSoftsign → globalAvgPool1d → linear', `exported graph ${exported}`);
  const gain = spec.tensors.find((t) => t.name === '1.gain');
  check(
    gain !== undefined &&
      Array.from(gain.data).every((v, i) => v === (model.at(1) as AdaptiveSoftsign1d).gain.data[i]),
    'exported γ',
  );
  let refused = '';
  try {
    saveModel(spec);
  } catch (err) {
    if (!(err instanceof ModelFormatError)) throw err;
    refused = err.message;
  }
  check(/adaptiveSoftsign.*unknown op/.test(refused), `infer accepted an op it does not have (${refused})`);
  return { maxGradError, accuracy, summary: model.toString(), exported, refused };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = main();
  console.log(r.summary);
  console.log(`gradcheck max |error|: ${r.maxGradError.toExponential(2)}`);
  console.log(`training accuracy: ${(r.accuracy * 100).toFixed(1)} %`);
  console.log(`exported graph: ${r.exported}`);
  console.log(`@ecgnn/infer until the op is added: ${r.refused}`);
  console.log('custom-layer example: OK');
}
