/** Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay. */
import { kernels } from '../backend/backend.js';
import type { FloatArray } from '../dtype.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import {
  type BaseOptions,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type StateValue,
} from './optimizer.js';

/** Options of {@link SGD}. */
export interface SGDOptions extends BaseOptions {
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening d of the momentum (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs μ > 0 and d = 0). */
  nesterov: boolean;
  /** Maximise instead of minimise (default false). */
  maximize: boolean;
}

/**
 * SGD as PyTorch's `torch.optim.SGD`: g ← ∇ + λθ; with momentum, b₁ = g, b_t = μ b_{t−1} + (1 − d) g;
 * g ← g + μ b_t (Nesterov) or g ← b_t; θ ← θ − lr·g.
 */
export class SGD extends Optimizer<SGDOptions> {
  /** Creates the optimizer; `lr` defaults to 1e-3. */
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(params, {
      lr: opts.lr ?? 1e-3,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0,
      nesterov: opts.nesterov ?? false,
      maximize: opts.maximize ?? false,
    });
  }

  protected validate(o: SGDOptions, where: string): void {
    if (!(o.lr >= 0)) throw new ValueError(`SGD (${where}): lr must be non-negative, got ${o.lr}`);
    if (!(o.momentum >= 0))
      throw new ValueError(`SGD (${where}): momentum must be non-negative, got ${o.momentum}`);
    if (!(o.weightDecay >= 0))
      throw new ValueError(`SGD (${where}): weightDecay must be non-negative, got ${o.weightDecay}`);
    if (!(o.dampening >= 0 && o.dampening <= 1))
      throw new ValueError(`SGD (${where}): dampening must be in [0, 1], got ${o.dampening}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0))
      throw new ValueError(`SGD (${where}): Nesterov momentum requires momentum > 0 and zero dampening`);
  }

  protected updateParam(
    p: Tensor,
    grad: FloatArray,
    group: ParamGroup<SGDOptions>,
    st: Record<string, StateValue>,
  ): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let buf: FloatArray | null = null;
    let firstStep = false;
    if (momentum !== 0) {
      if (st.momentumBuffer === undefined) {
        st.momentumBuffer = this.newStateArray(p);
        firstStep = true;
      }
      buf = st.momentumBuffer as FloatArray;
    }
    st.step = ((st.step as number | undefined) ?? 0) + 1;
    kernels().sgdStep(p.storage as FloatArray, grad, buf, {
      lr,
      momentum,
      dampening,
      weightDecay,
      nesterov,
      maximize,
      firstStep,
    });
  }
}
