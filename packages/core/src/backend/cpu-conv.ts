import type { FloatArray } from '../dtype.js';
import type { Conv1dParams } from './kernels.js';

// Reference (direct) convolution kernels. To be replaced by register-tiled versions.

/** Convolution forward, direct loops. */
export function conv1dForwardCpu(
  x: FloatArray,
  w: FloatArray,
  bias: FloatArray | null,
  out: FloatArray,
  p: Conv1dParams,
): void {
  const {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength,
    kernelSize,
    stride,
    dilation,
    padLeft,
    groups,
  } = p;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / coutG);
      for (let t = 0; t < outLength; t++) {
        let acc = bias ? bias[co] : 0;
        for (let ci = 0; ci < cinG; ci++) {
          const xBase = (b * inChannels + g * cinG + ci) * inLength;
          const wBase = (co * cinG + ci) * kernelSize;
          for (let kk = 0; kk < kernelSize; kk++) {
            const pos = t * stride + kk * dilation - padLeft;
            const xv = pos >= 0 && pos < inLength ? x[xBase + pos] : p.padValue;
            acc += xv * w[wBase + kk];
          }
        }
        out[(b * outChannels + co) * outLength + t] = acc;
      }
    }
  }
}

/** Gradient of the convolution input, direct loops. */
export function conv1dBackwardInputCpu(
  gradOut: FloatArray,
  w: FloatArray,
  gradX: FloatArray,
  p: Conv1dParams,
): void {
  const {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength,
    kernelSize,
    stride,
    dilation,
    padLeft,
    groups,
  } = p;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  gradX.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / coutG);
      for (let t = 0; t < outLength; t++) {
        const go = gradOut[(b * outChannels + co) * outLength + t];
        for (let ci = 0; ci < cinG; ci++) {
          const xBase = (b * inChannels + g * cinG + ci) * inLength;
          const wBase = (co * cinG + ci) * kernelSize;
          for (let kk = 0; kk < kernelSize; kk++) {
            const pos = t * stride + kk * dilation - padLeft;
            if (pos >= 0 && pos < inLength) gradX[xBase + pos] += go * w[wBase + kk];
          }
        }
      }
    }
  }
}

/** Gradient of the convolution weight, direct loops. */
export function conv1dBackwardWeightCpu(
  x: FloatArray,
  gradOut: FloatArray,
  gradW: FloatArray,
  p: Conv1dParams,
): void {
  const {
    batch,
    inChannels,
    outChannels,
    inLength,
    outLength,
    kernelSize,
    stride,
    dilation,
    padLeft,
    groups,
  } = p;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  gradW.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / coutG);
      for (let t = 0; t < outLength; t++) {
        const go = gradOut[(b * outChannels + co) * outLength + t];
        for (let ci = 0; ci < cinG; ci++) {
          const xBase = (b * inChannels + g * cinG + ci) * inLength;
          const wBase = (co * cinG + ci) * kernelSize;
          for (let kk = 0; kk < kernelSize; kk++) {
            const pos = t * stride + kk * dilation - padLeft;
            const xv = pos >= 0 && pos < inLength ? x[xBase + pos] : p.padValue;
            gradW[wBase + kk] += go * xv;
          }
        }
      }
    }
  }
}
