/**
 * Loading a model from a URL with `fetch` (browsers, Node ≥ 18, workers), and reading the top class off a batch of
 * probabilities. Browser-safe: no Node API.
 */
import { ModelFetchError, ShapeError } from '../errors.js';
import { type LoadOptions, loadModel, type Model } from './model.js';

/** Options of {@link loadModelFromUrl}: those of `loadModel`, plus the request's. */
export interface FetchModelOptions extends LoadOptions {
  /** Passed to `fetch` as its second argument (headers, credentials, `signal` to abort, …). */
  init?: RequestInit;
}

/**
 * Fetch a model file and load it (see `loadModel`). Throws {@link ModelFetchError} naming the URL when the request
 * fails (network error, CORS; `status` undefined, the message includes what `fetch` threw) or the answer's HTTP status is not
 * 2xx (`status`); the bytes are then read as `loadModel` reads them (`ModelFormatError` on a malformed file). `url`
 * is used as given (a relative URL resolves against the page in a browser).
 */
export async function loadModelFromUrl(url: string | URL, options: FetchModelOptions = {}): Promise<Model> {
  const href = String(url);
  let response: Response;
  try {
    response = await fetch(href, options.init);
  } catch (err) {
    throw new ModelFetchError(`${href}: fetch failed: ${err}`, href, undefined);
  }
  if (!response.ok) throw new ModelFetchError(`${href}: HTTP ${response.status}`, href, response.status);
  return loadModel(new Uint8Array(await response.arrayBuffer()), options);
}

/** The most probable class of one window: what {@link topLabel} returns. */
export interface TopLabel {
  /** The class name (`model.metadata.classes[index]`). */
  label: string;
  /** The class index. */
  index: number;
  /** Its probability (or, for `logits`, its logit): the largest of the window's values. */
  probability: number;
}

/**
 * The class with the largest value in window `window` of `probabilities` (`[batch, classes]`, as `predict`
 * returns), its name and value. Ties go to the lower index. Throws `ShapeError` when `probabilities` has no window
 * `window` of `model.metadata.classes.length` values.
 */
export function topLabel(model: Model, probabilities: Float32Array, window = 0): TopLabel {
  const { classes } = model.metadata;
  const n = classes.length;
  const start = window * n;
  // Also false for a window that is not a whole number (start not a multiple of n).
  if (!(start >= 0 && start % n === 0 && start + n <= probabilities.length)) {
    throw new ShapeError(`topLabel: no window ${window} of ${n} in ${probabilities.length} values`);
  }
  let index = 0;
  for (let c = 1; c < n; c++) if (probabilities[start + c] > probabilities[start + index]) index = c;
  return { label: classes[index], index, probability: probabilities[start + index] };
}
