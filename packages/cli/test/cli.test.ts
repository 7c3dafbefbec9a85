// The command tree, --help everywhere, and exit codes of usage errors and of errors of the work.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findRepoRoot } from '@ecgnn/data';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { cli, runDataTests } from './helpers.js';

/** Every command path of the tree (`['data', 'info']`, …), commander's implicit `help` left out. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const EXPECTED = [
  'data',
  'data info',
  'data verify',
  'data fetch',
  'data split',
  'data qrs',
  'data record',
  'inspect',
  'classify',
  'distill',
  'prune',
  'binarize',
  'meta',
  'eval',
  'export',
  'pipeline',
  'train',
  'bench',
];

const tmp = mkdtempSync(join(tmpdir(), 'ecgnn-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ecgnn command tree and help', () => {
  const paths = commandPaths(createProgram({ io: { out: () => {}, err: () => {} }, code: 0 }));

  it('has exactly the commands of the skeleton', () => {
    expect(paths.map((p) => p.join(' ')).sort()).toEqual([...EXPECTED].sort());
  });

  it('ecgnn --help lists every top-level command and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe('');
    for (const name of EXPECTED.filter((p) => !p.includes(' ')))
      expect(r.out).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(r.out).toContain('info');
    expect(r.out).toContain('fetch');
  });

  it.each(paths)('ecgnn %s --help exits 0 and prints that command’s usage', async (...path) => {
    const r = await cli(...path, '--help');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain(`Usage: ecgnn ${path.join(' ')}`);
  });

  it('--version prints the package version', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out.trim()).toBe(
      JSON.parse(readFileSync(join(findRepoRoot()!, 'packages', 'cli', 'package.json'), 'utf8')).version,
    );
  });

  it('accepts the npm habit of a leading -- (pnpm ecgnn -- --help), `help <command>` and -h', async () => {
    const a = await cli('--', '--help');
    expect(a.code).toBe(EXIT_OK);
    expect(a.out).toContain('Usage: ecgnn [options] [command]');
    const b = await cli('help', 'classify');
    expect(b.code).toBe(EXIT_OK);
    expect(b.out).toContain('Usage: ecgnn classify');
    const c = await cli('inspect', '-h');
    expect(c.code).toBe(EXIT_OK);
    expect(c.out).toContain('--json');
    // A script naming the command (`"start": "… pipeline"`) then `pnpm start -- --help`.
    const d = await cli('pipeline', '--', '--help');
    expect(d.code).toBe(EXIT_OK);
    expect(d.out).toContain('Usage: ecgnn pipeline');
  });

  it('every command that prints results offers --json', async () => {
    // Every command but the `data` group itself.
    for (const p of EXPECTED.filter((c) => c !== 'data')) {
      const r = await cli(...p.split(' '), '--help');
      expect(r.out, p).toContain('--json');
    }
  });
});

describe('usage errors exit 2 with a message on stderr', () => {
  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['data', 'info', '--bogus'], "unknown option '--bogus'"],
    [['inspect', 'm.ecgnn', '--frobnicate'], "unknown option '--frobnicate'"],
    [['nosuchcommand'], "unknown command 'nosuchcommand'"],
    [['inspect'], "missing required argument 'model'"],
    [['classify', '100'], "required option '--model <file>' not specified"],
    [['classify', '100', '--model', 'm', '--lead', '-1'], 'must be ≥ 0'],
    [['classify', '100', '--model', 'm', '--seconds', '0'], 'must be > 0'],
    [['data', 'fetch', '--records', ','], 'empty list'],
    [['distill', '--seed', 'abc'], 'not an integer'],
    [['distill', '--sampler', 'nope'], 'Allowed choices are weighted, class-balanced, shuffled'],
    [['distill', '--alpha', '2'], 'must be in [0, 1]'],
    [['distill', '--temperature', 'x'], 'not a number'],
    [['inspect', 'a', 'b'], 'too many arguments'],
  ])('ecgnn %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it('a command group without its subcommand shows its help on stderr and exits 2', async () => {
    const r = await cli('data');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('Usage: ecgnn data');
  });

  it('distill refuses smoke rows into docs/results.json (usage error, nothing run)', async () => {
    const root = findRepoRoot()!;
    const r = await cli('distill', '--smoke', '--record', join(root, 'docs', 'results.json'));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('refuses to write smoke rows');
  });
});

describe('errors of the work exit 1', () => {
  it('distill --no-download without the data names the folder and the options', async () => {
    const r = await cli(
      'distill',
      '--smoke',
      '--no-download',
      '--data',
      join(tmp, 'empty'),
      '--out',
      join(tmp, 'o'),
    );
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(join(tmp, 'empty', 'mitdb'));
    expect(r.err).toContain('--no-download');
    expect(r.err).toContain('ECGNN_DATA');
  });
});

describe.runIf(runDataTests)('ecgnn distill on MIT-BIH (smoke)', () => {
  it('trains the teacher alone, writes report.json and report.md, prints JSON with --json', async () => {
    const out = join(tmp, 'distill-smoke');
    const r = await cli(
      'distill',
      '--smoke',
      '--teacher-only',
      '--sampler',
      'shuffled',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(EXIT_OK);
    const report = JSON.parse(r.out) as { models: Record<string, unknown>; rows: Array<{ id: string }> };
    expect(Object.keys(report.models)).toEqual(['teacher']);
    expect(report.rows.map((x) => x.id)).toEqual(['distill/teacher-shuffled']);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).rows).toEqual(report.rows);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/^# Distillation \(method 1\) — smoke run/);
  });
});

describe('the ecgnn executable', () => {
  it('exits with the run’s code: 0 for --help, 1 for a missing model file, 2 for an unknown option', () => {
    const root = findRepoRoot()!;
    const loader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const bin = join(root, 'packages', 'cli', 'src', 'bin.ts');
    const exec = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', loader, '--conditions=@ecgnn/source', bin, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
    const help = exec('--', '--help');
    expect(help.status).toBe(EXIT_OK);
    expect(help.stdout).toContain('Usage: ecgnn');
    const missing = exec('inspect', join(tmp, 'none.ecgnn'));
    expect(missing.status).toBe(EXIT_FAILURE);
    expect(missing.stderr).toContain(join(tmp, 'none.ecgnn'));
    const bad = exec('data', 'info', '--bogus');
    expect(bad.status).toBe(EXIT_USAGE);
    expect(bad.stderr).toContain("unknown option '--bogus'");
  });
});
