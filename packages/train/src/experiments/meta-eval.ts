/**
 * Forward passes and few-shot evaluation of the three methods of the meta-learning experiment on the same tasks:
 * - SNAIL: one sequence [support…, query] per query, prediction at the last step (logits of the first M slots);
 * - prototypical network (Snell, Swersky, Zemel, NeurIPS 2017): logits −‖e(q) − p_c‖², p_c the mean support
 *   embedding of class c;
 * - fine-tuning: the supervised model's embedding frozen, a new linear head M outputs (zero-initialised) trained
 *   on the k shots by Adam (full batch), then applied to the queries.
 */
import {
  concat,
  crossEntropy,
  indexSelect,
  matmulT,
  mean,
  nn,
  noGrad,
  optim,
  type Tensor,
  tensor,
  tidy,
} from '@ecgnn/core';
import type { EcgEmbeddingCnn, Snail } from '@ecgnn/models';
import type { MetaSet } from './meta-data.js';
import { type FewShotTask, type GroupBatch, taskGroups } from './meta-episodes.js';

/** Beats `items` of `set` as a tensor `[n, L]`. */
export function beatsTensor(set: MetaSet, items: ArrayLike<number>): Tensor {
  const L = set.length;
  const x = new Float32Array(items.length * L);
  for (let i = 0; i < items.length; i++) x.set(set.x.subarray(items[i] * L, (items[i] + 1) * L), i * L);
  return tensor(x, [items.length, L]);
}

/**
 * SNAIL logits `[groups, M]` of a group batch: each distinct item is embedded once (one CNN batch), the
 * sequences are gathered from those embeddings, the last step's label slot is zeroed.
 */
export function snailLogits(model: Snail, set: MetaSet, batch: GroupBatch): Tensor {
  const { steps, ways } = batch;
  const n = batch.items.length / steps;
  const unique = [...new Set(batch.items)];
  const pos = new Map(unique.map((it, i) => [it, i]));
  const emb = model.embed.forward(beatsTensor(set, unique));
  const idx = tensor(
    Int32Array.from(batch.items, (it) => pos.get(it)!),
    [batch.items.length],
    { dtype: 'int32' },
  );
  const seq = indexSelect(emb, 0, idx).reshape([n, steps, emb.shape[1]]);
  const labels = Int32Array.from(batch.labels, (l, i) => (i % steps === steps - 1 ? -1 : l));
  const logits = model
    .forward(model.steps(seq, labels))
    .narrow(1, steps - 1, 1)
    .reshape([n, model.config.ways]);
  return ways === model.config.ways ? logits : logits.narrow(1, 0, ways);
}

/** Targets of a group batch (the last step's labels). */
export function groupTargets(batch: GroupBatch): Tensor {
  const n = batch.items.length / batch.steps;
  return tensor(
    Int32Array.from({ length: n }, (_, g) => batch.labels[g * batch.steps + batch.steps - 1]),
    [n],
    { dtype: 'int32' },
  );
}

/** Prototypes `[M, E]`: the mean support embedding of each class. */
function prototypes(support: Tensor, labels: Int32Array, ways: number): Tensor {
  const rows: Tensor[] = [];
  for (let c = 0; c < ways; c++) {
    const idx: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) idx.push(i);
    });
    rows.push(mean(indexSelect(support, 0, tensor(idx, [idx.length], { dtype: 'int32' })), 0, true));
  }
  return concat(rows, 0);
}

/** Prototypical-network logits `[queries, M]`: −‖e(q) − p_c‖² = 2 e·p − ‖p‖² − ‖e‖². */
export function protoLogits(embed: EcgEmbeddingCnn, set: MetaSet, task: FewShotTask): Tensor {
  const ns = task.support.length;
  const e = embed.forward(beatsTensor(set, [...task.support, ...task.queries]));
  const s = e.narrow(0, 0, ns);
  const q = e.narrow(0, ns, task.queries.length);
  const p = prototypes(s, task.supportLabels, task.ways);
  const qp = matmulT(q, p, false, true).mul(2);
  const pp = p.mul(p).sum(1).reshape([1, task.ways]);
  const qq = q.mul(q).sum(1, true);
  return qp.sub(pp).sub(qq);
}

/** Per-task accuracies of the SNAIL model on `tasks` (evaluation mode, no gradients). */
export function evaluateSnail(model: Snail, set: MetaSet, tasks: readonly FewShotTask[]): TaskScore[] {
  model.eval();
  return noGrad(() =>
    tasks.map((t) => tidy(() => accuracy(snailLogits(model, set, taskGroups(t)), t.queryLabels))),
  );
}

/** Per-task accuracies of a prototypical network on `tasks`. */
export function evaluateProto(
  embed: EcgEmbeddingCnn,
  set: MetaSet,
  tasks: readonly FewShotTask[],
): TaskScore[] {
  embed.eval();
  return noGrad(() => tasks.map((t) => tidy(() => accuracy(protoLogits(embed, set, t), t.queryLabels))));
}

/** Options of {@link evaluateFinetune}. */
export interface FinetuneOptions {
  /** Adam steps on the support set (full batch). */
  steps: number;
  /** Adam learning rate. */
  lr: number;
}

/** Per-task accuracies of the fine-tuning baseline (frozen embedding, new head trained on the k shots). */
export function evaluateFinetune(
  embed: EcgEmbeddingCnn,
  set: MetaSet,
  tasks: readonly FewShotTask[],
  opts: FinetuneOptions,
): TaskScore[] {
  embed.eval();
  return tasks.map((t) =>
    tidy(() => {
      const e = noGrad(() => embed.forward(beatsTensor(set, [...t.support, ...t.queries])));
      const s = e.narrow(0, 0, t.support.length);
      const q = e.narrow(0, t.support.length, t.queries.length);
      const head = new nn.Linear(e.shape[1], t.ways);
      head.weight.data.fill(0);
      head.bias?.data.fill(0);
      const opt = new optim.Adam(head.parameters(), { lr: opts.lr });
      const y = tensor(t.supportLabels, [t.supportLabels.length], { dtype: 'int32' });
      for (let i = 0; i < opts.steps; i++) {
        tidy(() => {
          opt.zeroGrad();
          crossEntropy(head.forward(s), y).backward();
          opt.step();
          return null;
        });
      }
      return noGrad(() => accuracy(head.forward(q), t.queryLabels));
    }),
  );
}

/** Score of one task: accuracy and macro-F1 over its M classes (F1 of a class without predictions or items: 0). */
export type TaskScore = {
  /** Fraction of queries classified right. */
  accuracy: number;
  /** Mean F1 over the task's M classes. */
  macroF1: number;
};

/** Scores the argmax of each row of `logits` `[queries, M]` against the labels. */
export function accuracy(logits: Tensor, labels: ArrayLike<number>): TaskScore {
  const [n, m] = logits.shape;
  const d = logits.data;
  const tp = new Float64Array(m);
  const pred = new Float64Array(m);
  const real = new Float64Array(m);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < m; j++) if (d[i * m + j] > d[i * m + best]) best = j;
    pred[best]++;
    real[labels[i]]++;
    if (best === labels[i]) {
      ok++;
      tp[best]++;
    }
  }
  let f1 = 0;
  for (let c = 0; c < m; c++) f1 += pred[c] + real[c] > 0 ? (2 * tp[c]) / (pred[c] + real[c]) : 0;
  return { accuracy: ok / n, macroF1: f1 / m };
}
