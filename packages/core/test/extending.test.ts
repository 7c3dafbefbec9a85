/**
 * Runs the extending example (examples/extending/custom-layer.ts, walked through in docs/extending.md) the
 * way a user runs it, in a child process: it checks its own results (forward values, gradient checks,
 * training accuracy, state-dict round trip, the export emitter's graph) and exits non-zero if any fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = resolve(root, 'examples/extending/custom-layer.ts');

test('examples/extending/custom-layer.ts runs and passes its own checks', () => {
  expect(existsSync(example)).toBe(true);
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@ecgnn/source', example], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(out).toContain('(1): AdaptiveSoftsign1d(channels=3)  # out [64, 3, 16], 6 params');
  expect(out).toMatch(/gradcheck max \|error\|: \d\.\d\de-\d+/);
  expect(out).toContain('training accuracy: 100.0 %');
  expect(out).toContain('exported graph: conv1d → adaptiveSoftsign → globalAvgPool1d → linear');
  expect(out.trim().endsWith('custom-layer example: OK')).toBe(true);
});
