import { kernels } from './backend/backend.js';
import { copyStorage } from './dtype.js';
import { AutogradError, fmtShape, ShapeError } from './errors.js';
import { shapesEqual } from './shape.js';
import { noGrad, Tensor } from './tensor.js';

function freedError(name: string): AutogradError {
  return new AutogradError(
    `backward: the graph through '${name}' was already freed by an earlier backward(); ` +
      'pass {retainGraph: true} to the first backward() to go through it twice',
  );
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph's saved state so that backward can run through it again. */
  retainGraph?: boolean;
}

/** Strides of a flat (1-D contiguous) operand. */
const FLAT_STRIDES: readonly number[] = [1];

function addInto(acc: Tensor, g: Tensor): Tensor {
  // Accumulation in place into a tensor the engine owns: the `binary` kernel over the flat storage, its
  // output aliasing the accumulator (allowed for elementwise kernels).
  const a = acc.storage;
  kernels().binary('add', a, FLAT_STRIDES, g.storage, FLAT_STRIDES, a, [a.length]);
  return acc;
}

function checkedGradient(g: Tensor, like: Tensor, what: string): Tensor {
  if (!(g instanceof Tensor)) {
    throw new AutogradError(`backward: ${what} must be a Tensor, got ${typeof g}`);
  }
  if (g.dtype !== like.dtype) {
    throw new AutogradError(`backward: ${what} has dtype ${g.dtype} but the tensor has dtype ${like.dtype}`);
  }
  return g;
}

function ownedCopy(g: Tensor, like: Tensor, what: string): Tensor {
  checkedGradient(g, like, what);
  return new Tensor(copyStorage(g.storage), g.shape);
}

/**
 * Reverse-mode differentiation from `root`: accumulates d(root)/d(leaf) (times `grad`) into `.grad` of every
 * leaf that requires gradients, and of non-leaves marked with `retainGrad()`. Gradients add up across
 * calls (zero them between optimizer steps). For a non-scalar root, `grad` (same shape and dtype) is
 * required. The graph's saved state is freed unless `retainGraph` is set; a later backward through a freed
 * part raises an {@link AutogradError} before any gradient is written.
 */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new AutogradError(
      `backward: tensor of shape ${fmtShape(root.shape)} does not require grad ` +
        '(no input of the computation had requiresGrad set, or it was computed inside noGrad)',
    );
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new AutogradError(
        `backward: gradient can be implied only for scalar outputs; got shape ${fmtShape(root.shape)} — ` +
          'pass a gradient tensor of the same shape',
      );
    }
    seed = new Tensor(root.dtype === 'float64' ? new Float64Array([1]) : new Float32Array([1]), root.shape);
  } else {
    if (!(grad instanceof Tensor)) {
      throw new AutogradError(`backward: gradient must be a Tensor, got ${typeof grad}`);
    }
    if (!shapesEqual(grad.shape, root.shape)) {
      throw new ShapeError(
        `backward: gradient shape ${fmtShape(grad.shape)} does not match output shape ${fmtShape(root.shape)}`,
      );
    }
    seed = grad;
  }

  if (root.gradFn?.freed) throw freedError(root.gradFn.name);

  // Topological order by iterative DFS (deep graphs must not overflow the stack).
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !visited.has(child)) {
        // Fail before any gradient is written when part of the graph was already freed.
        if (child.gradFn?.freed) throw freedError(child.gradFn.name);
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  // Gradients flow without copying: a rule's result is stored as is, and copied only when a second
  // contribution must be added into it (or when it becomes a user-visible `.grad`) and the engine does not
  // own it — rules may return their incoming gradient, an input or a saved tensor, which must not be mutated.
  const grads = new Map<Tensor, Tensor>();
  const owned = new Set<Tensor>();
  grads.set(root, checkedGradient(seed, root, 'the gradient passed to backward()'));
  noGrad(() => {
    for (let idx = order.length - 1; idx >= 0; idx--) {
      const t = order[idx];
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      if (t.retainsGrad) {
        if (t.grad === null || t.grad.isDisposed) {
          // (a .grad the user disposed counts as none)
          t.grad = owned.delete(g) ? g : ownedCopy(g, t, 'gradient');
          t.grad.keepFromTidy(); // held by t: tidy() around a training step must not dispose it
        } else {
          if (!shapesEqual(t.grad.shape, t.shape) || t.grad.dtype !== t.dtype) {
            throw new AutogradError(
              `backward: existing .grad ${fmtShape(t.grad.shape)} ${t.grad.dtype} does not match tensor ${fmtShape(t.shape)} ${t.dtype}; set .grad = null first`,
            );
          }
          addInto(t.grad, g);
        }
      }
      const node = t.gradFn;
      if (node === null) continue;
      const inGrads = node.backward(g);
      node.inputs.forEach((inp, k) => {
        const gi = inGrads[k];
        if (gi === null || gi === undefined || !inp.requiresGrad) return;
        if (!(gi instanceof Tensor)) {
          throw new AutogradError(
            `backward: rule of '${node.name}' returned a non-tensor gradient for input ${k}`,
          );
        }
        if (gi.dtype !== inp.dtype) {
          throw new AutogradError(
            `backward: rule of '${node.name}' returned a ${gi.dtype} gradient for ${inp.dtype} input ${k}`,
          );
        }
        if (!shapesEqual(gi.shape, inp.shape)) {
          throw new ShapeError(
            `backward: rule of '${node.name}' returned gradient ${fmtShape(gi.shape)} for input ${k} of shape ${fmtShape(inp.shape)}`,
          );
        }
        const prev = grads.get(inp);
        if (prev === undefined) grads.set(inp, gi);
        else if (owned.has(prev)) addInto(prev, gi);
        else {
          const acc = ownedCopy(prev, inp, `the gradient from '${node.name}' for input ${k}`);
          owned.add(acc);
          grads.set(inp, addInto(acc, gi));
        }
      });
      if (!opts.retainGraph) node.release();
    }
  });
}
