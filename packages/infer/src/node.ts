/**
 * Node-only helpers of @ecgnn/infer (entry point `@ecgnn/infer/node`): read and write model files on disk.
 * The core entry point stays free of Node APIs so it runs unchanged in browsers.
 * @module @ecgnn/infer/node
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
// The main entry, imported whole: the bundle of this entry imports it (one copy of the runtime and its classes).
import {
  type LoadOptions,
  loadModel,
  type Model,
  ModelFormatError,
  type ModelSpec,
  saveModel,
} from './index.js';

/** Read a model file from disk and load it (see `loadModel`). Errors name the file. */
export async function readModelFile(path: string, options: LoadOptions = {}): Promise<Model> {
  const bytes = new Uint8Array(await readFile(path));
  try {
    return loadModel(bytes, options);
  } catch (err) {
    // The same error (class, byteOffset, stack) with the file named in front of its message.
    if (err instanceof ModelFormatError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/**
 * Serialise `spec` (see `saveModel`) and write it to `path` atomically: the bytes go to a temporary file in the
 * same directory, which is then renamed over `path`, so readers never see a partial file.
 */
export async function writeModelFile(path: string, spec: ModelSpec | Uint8Array): Promise<void> {
  const bytes = spec instanceof Uint8Array ? spec : saveModel(spec);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
