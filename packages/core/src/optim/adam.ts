/** Adam and AdamW. */
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

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions extends BaseOptions {
  /** Decay rates (β₁, β₂) of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Weight decay λ: L2 added to the gradient (Adam, default 0) or decoupled (AdamW, default 0.01). */
  weightDecay: number;
  /** AMSGrad variant: use the running maximum of the second moment (default false). */
  amsgrad: boolean;
  /** Maximise instead of minimise (default false). */
  maximize: boolean;
}

function adamDefaults(opts: Partial<AdamOptions>, weightDecay: number): AdamOptions {
  return {
    lr: opts.lr ?? 1e-3,
    betas: opts.betas ? [opts.betas[0], opts.betas[1]] : [0.9, 0.999],
    eps: opts.eps ?? 1e-8,
    weightDecay: opts.weightDecay ?? weightDecay,
    amsgrad: opts.amsgrad ?? false,
    maximize: opts.maximize ?? false,
  };
}

/**
 * Adam (Kingma & Ba 2015) as PyTorch's `torch.optim.Adam`: g ← ∇ + λθ; m ← β₁m + (1−β₁)g;
 * v ← β₂v + (1−β₂)g²; θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps). AMSGrad uses max(v) over time.
 */
export class Adam extends Optimizer<AdamOptions> {
  /** Whether weight decay is decoupled (AdamW). */
  protected readonly decoupled: boolean = false;

  /** Creates the optimizer; lr defaults to 1e-3. */
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, adamDefaults(opts, 0));
  }

  protected validate(o: AdamOptions, where: string): void {
    const n = this.constructor.name;
    if (!(o.lr >= 0)) throw new ValueError(`${n} (${where}): lr must be non-negative, got ${o.lr}`);
    if (!(o.eps >= 0)) throw new ValueError(`${n} (${where}): eps must be non-negative, got ${o.eps}`);
    if (!Array.isArray(o.betas) || o.betas.length !== 2 || !o.betas.every((b) => b >= 0 && b < 1))
      throw new ValueError(`${n} (${where}): betas must be two numbers in [0, 1), got ${String(o.betas)}`);
    if (!(o.weightDecay >= 0))
      throw new ValueError(`${n} (${where}): weightDecay must be non-negative, got ${o.weightDecay}`);
  }

  protected updateParam(
    p: Tensor,
    grad: FloatArray,
    group: ParamGroup<AdamOptions>,
    st: Record<string, StateValue>,
  ): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [b1, b2] = group.betas;
    if (st.expAvg === undefined) {
      st.step = 0;
      st.expAvg = this.newStateArray(p);
      st.expAvgSq = this.newStateArray(p);
      if (amsgrad) st.maxExpAvgSq = this.newStateArray(p);
    }
    if (amsgrad && st.maxExpAvgSq === undefined) st.maxExpAvgSq = this.newStateArray(p);
    const t = (st.step as number) + 1;
    st.step = t;
    kernels().adamStep(
      p.storage as FloatArray,
      grad,
      st.expAvg as FloatArray,
      st.expAvgSq as FloatArray,
      amsgrad ? (st.maxExpAvgSq as FloatArray) : null,
      {
        lr,
        beta1: b1,
        beta2: b2,
        eps,
        weightDecay,
        // NOTE: Loshchilov & Hutter 2019 (AdamW): decay the weights directly, θ ← θ(1 − lr·λ), not through g.
        decoupled: this.decoupled,
        amsgrad,
        maximize,
        step: t,
      },
    );
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, θ ← θ(1 − lr·λ) before the Adam
 * update; λ defaults to 0.01 as PyTorch.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  /** Creates the optimizer; lr defaults to 1e-3, weightDecay to 0.01. */
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, { ...adamDefaults(opts, 0.01) });
  }
}
