/**
 * The directory protocol every experiment's training run follows, in one place: a run writes its checkpoints
 * (`last.ckpt` while training, `best.ckpt` for the kept weights) and, once finished, `result.json`. With
 * `resume`, a finished run is reloaded instead of trained again, a killed one resumes from `last.ckpt`, and
 * anything else starts from an empty directory.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type nn, ValueError } from '@ecgnn/core';
import { loadCheckpoint, writeFileAtomicSync } from '../checkpoint.js';

/**
 * With `resume` and a finished run in `dir` (`result.json` and `best.ckpt`): loads the best weights into `model`
 * (strict), puts it in eval mode and returns the saved result as the caller wrote it; otherwise null.
 */
export function reloadFinishedRun<T>(dir: string | null, model: nn.AnyModule, resume: boolean): T | null {
  if (!resume || dir === null) return null;
  const resultFile = join(dir, 'result.json');
  const bestFile = join(dir, 'best.ckpt');
  if (!existsSync(resultFile) || !existsSync(bestFile)) return null;
  const saved = JSON.parse(readFileSync(resultFile, 'utf8')) as T;
  model.loadStateDict(loadCheckpoint(bestFile).model.state, { strict: true });
  model.eval();
  return saved;
}

/**
 * Whether the run in `dir` resumes from its `last.ckpt` (only with `resume`); when it does not, the directory is
 * cleared so that nothing of an earlier run is mixed in.
 */
export function startRunDir(dir: string | null, resume: boolean): boolean {
  if (dir === null) return false;
  const resuming = resume && existsSync(join(dir, 'last.ckpt'));
  if (!resuming) rmSync(dir, { recursive: true, force: true });
  return resuming;
}

/** Writes a finished run's `result.json` (atomically), which {@link reloadFinishedRun} reads back. */
export function saveRunResult(dir: string | null, saved: unknown): void {
  if (dir === null) return;
  writeFileAtomicSync(
    join(dir, 'result.json'),
    new TextEncoder().encode(`${JSON.stringify(saved, null, 2)}\n`),
  );
}

/** Name of the file in a run directory that records what the run was started with. */
export const RUN_SETTINGS_FILE = 'settings.json';

/**
 * Guards `resume` against mixing runs: when `dir` holds a {@link RUN_SETTINGS_FILE} (written by this function
 * when the run started), every top-level key of `settings` must have the value recorded there, else a
 * ValueError names the keys that differ and both values (a finished or killed run trained with other settings
 * would otherwise be reloaded under the new settings' name). Without the file (a fresh directory, or a run
 * from before the file existed) it writes `settings` and returns.
 */
export function checkRunSettings(dir: string | null, settings: Record<string, unknown>): void {
  if (dir === null) return;
  const file = join(dir, RUN_SETTINGS_FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(file, new TextEncoder().encode(`${JSON.stringify(settings, null, 2)}\n`));
    return;
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const keys = new Set([...Object.keys(saved), ...Object.keys(settings)]);
  const differ = [...keys].filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(settings[k]));
  if (differ.length > 0)
    throw new ValueError(
      `${dir} holds a run started with other settings (${differ
        .map(
          (k) =>
            `${k}: ${JSON.stringify(saved[k]) ?? 'none'} there, ${JSON.stringify(settings[k]) ?? 'none'} now`,
        )
        .join('; ')}); use another output directory or the same settings`,
    );
}
