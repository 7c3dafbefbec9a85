/**
 * The `train-step` case on TensorFlow.js (`tfjs-cpu`): the reference ECG CNN written in `tfjs-core` ops in its
 * channels-last layout (convolutions as 2-D with height 1), batchnorm in training mode written out
 * (`tf.moments` over batch and time, biased variance), mean cross-entropy from `tf.logSoftmax`, and
 * `tf.train.momentum(lr, 0.9)` — accum ← μ·accum + g, θ ← θ − lr·accum from a zero accumulator, which is
 * `torch.optim.SGD` with momentum — whose `minimize` takes the gradients from `tf.variableGrads`.
 * One timed run = `minimize(loss, returnCost = true)` and reading the loss back (`dataSync`), as the other
 * engines read theirs.
 */

import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { ECG, type Prepared } from './common.js';
import { oikToKio } from './tfjs-layout.js';
import {
  deltaNorm,
  ecgTrainParameters,
  TRAIN,
  trainBatches,
  trainCheckError,
  trainReference,
} from './train.js';

// tfjs-core's Node bundle registers no gradient functions (the `@tensorflow/tfjs` bundle does). Its ESM file that
// registers them all cannot be imported by Node (directory imports); required through tsx's CommonJS hook it
// registers into tfjs' global gradient registry, which every copy of tfjs-core in the process shares.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');

/** The CNN's variables in tfjs layouts, keyed by the PyTorch parameter names of train.ts. */
function variables(): Map<string, tf.Variable> {
  const p = new Map(ecgTrainParameters());
  const get = (n: string) => p.get(n) as Float32Array;
  const v = (n: string, data: Float32Array, shape: number[]) => tf.variable(tf.tensor(data, shape), true, n);
  // Depthwise filter [1, K, C, 1]: element (j, c) = w[c, 0, j].
  const dw = new Float32Array(ECG.k3 * ECG.c2);
  for (let c = 0; c < ECG.c2; c++)
    for (let j = 0; j < ECG.k3; j++) dw[j * ECG.c2 + c] = get('8.weight')[c * ECG.k3 + j];
  return new Map([
    ['0.weight', v('0.weight', oikToKio(get('0.weight'), ECG.c1, 1, ECG.k1), [1, ECG.k1, 1, ECG.c1])],
    ['1.weight', v('1.weight', get('1.weight'), [ECG.c1])],
    ['1.bias', v('1.bias', get('1.bias'), [ECG.c1])],
    [
      '4.weight',
      v('4.weight', oikToKio(get('4.weight'), ECG.c2, ECG.c1, ECG.k2), [1, ECG.k2, ECG.c1, ECG.c2]),
    ],
    ['5.weight', v('5.weight', get('5.weight'), [ECG.c2])],
    ['5.bias', v('5.bias', get('5.bias'), [ECG.c2])],
    ['8.weight', v('8.weight', dw, [1, ECG.k3, ECG.c2, 1])],
    ['9.weight', v('9.weight', oikToKio(get('9.weight'), ECG.c3, ECG.c2, 1), [1, 1, ECG.c2, ECG.c3])],
    ['9.bias', v('9.bias', get('9.bias'), [ECG.c3])],
    ['12.weight', v('12.weight', get('12.weight'), [ECG.classes, ECG.c3])],
    ['12.bias', v('12.bias', get('12.bias'), [ECG.classes])],
  ]);
}

/** Batchnorm in training mode over [N, 1, L, C]: batch statistics per channel, biased variance. */
function batchNormTrain(x: tf.Tensor4D, gamma: tf.Variable, beta: tf.Variable): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, ECG.eps))), gamma), beta);
}

/** The `train-step` case on the current tfjs backend. */
export function tfjsTrainCase(batch: number, note: string): Prepared {
  const vars = variables();
  const w = (n: string) => vars.get(n) as tf.Variable;
  const data = trainBatches('train-step', batch).map((b) => ({
    x: tf.tensor4d(b.x, [batch, 1, ECG.length, 1]), // one channel: NCL = NLC
    y: tf.oneHot(tf.tensor1d(b.y, 'int32'), ECG.classes),
  }));
  const lossOf = (x: tf.Tensor4D, y: tf.Tensor) => () => {
    let h: tf.Tensor4D = tf.conv2d(x, w('0.weight') as tf.Tensor4D, 1, 'same');
    h = tf.maxPool(tf.relu(batchNormTrain(h, w('1.weight'), w('1.bias'))), [1, 2], [1, 2], 'valid');
    h = tf.conv2d(h, w('4.weight') as tf.Tensor4D, 1, 'valid');
    h = tf.maxPool(tf.relu(batchNormTrain(h, w('5.weight'), w('5.bias'))), [1, 2], [1, 2], 'valid');
    h = tf.depthwiseConv2d(h, w('8.weight') as tf.Tensor4D, 1, 'valid');
    h = tf.relu(tf.add(tf.conv2d(h, w('9.weight') as tf.Tensor4D, 1, 'valid'), w('9.bias')) as tf.Tensor4D);
    const feat = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(feat, w('12.weight'), false, true), w('12.bias'));
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  };
  const optimizer = tf.train.momentum(TRAIN.lr, TRAIN.momentum);
  const varList = [...vars.values()];
  let k = 0;
  const step = (): number => {
    const b = data[k++ % data.length];
    const cost = optimizer.minimize(lossOf(b.x, b.y), true, varList) as tf.Scalar;
    const value = cost.dataSync()[0];
    cost.dispose();
    return value;
  };
  let last = Number.NaN;
  return {
    run: () => {
      last = step();
    },
    output: () => [last],
    check: async () => {
      const before = varList.map((v) => Float64Array.from(v.dataSync()));
      const losses = Array.from({ length: TRAIN.checkSteps }, step);
      const got = [...losses, ...varList.map((v, i) => deltaNorm(v.dataSync(), before[i]))];
      return { error: trainCheckError(got, trainReference('train-step', batch)), tolerance: TRAIN.tolerance };
    },
    note: `${note}; tfjs-core ops (conv2d with height 1, batchnorm from tf.moments), gradients by tf.train.momentum(${TRAIN.lr}, ${TRAIN.momentum}).minimize (tf.variableGrads), loss read back`,
  };
}
