/**
 * The Python interpreter with PyTorch for the `pytorch-cpu` engine: `$ECGNN_PYTHON` when set, else the first of
 * `python3` on the PATH and Debian's `/usr/bin/python3` (where `apt-get install -y python3-torch` puts torch; a
 * pyenv or venv `python3` first on the PATH does not see it) that can `import torch`.
 */
import { spawnSync } from 'node:child_process';

/** How to install what the pytorch-cpu engine needs (printed when it is skipped). */
export const TORCH_HINT =
  'PyTorch not found: on Debian `apt-get install -y python3-torch` (CPU build, torch 1.13), or `pip install torch`; ECGNN_PYTHON=/path/to/python picks the interpreter';

let found: { python: string | null; checked: string[] } | null = null;

/** The interpreter that imports torch, or null; `checked` lists the ones tried. */
export function torchPython(): { python: string | null; checked: string[] } {
  if (found === null) {
    const env = process.env.ECGNN_PYTHON;
    const candidates = env ? [env] : ['python3', '/usr/bin/python3'];
    const python =
      candidates.find(
        (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0,
      ) ?? null;
    found = { python, checked: candidates };
  }
  return found;
}

/** Why the pytorch-cpu engine cannot run here, or null. */
export function missingTorch(): string | null {
  const { python, checked } = torchPython();
  return python === null ? `${TORCH_HINT} (tried ${checked.join(', ')})` : null;
}
