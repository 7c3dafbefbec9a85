/**
 * Every primitive in the op table must have a float64 gradient check: a test named `grad: <primitiveName>`
 * (declared with `test(` or `it(`, not skipped) somewhere in packages/core/test/*.test.ts. This test lists
 * every primitive that lacks one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { primitiveNames } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Names X of active tests titled `grad: X` in `source`. `test.skip`, `test.todo`, `it.skip`, `xit` and
 * commented-out lines do not count.
 */
export function gradTestNames(source: string): Set<string> {
  const names = new Set<string>();
  const uncommented = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const re =
    /\b(?:test|it)(?:\.(?:concurrent|sequential|fails))?\(\s*(['"`])grad: ([A-Za-z_$][\w$]*)(?=[\s'"`(,:])/g;
  for (const m of uncommented.matchAll(re)) names.add(m[2]);
  return names;
}

/** Primitives of `names` without a gradient test in any of `sources`. */
export function missingGradTests(names: readonly string[], sources: readonly string[]): string[] {
  const found = new Set<string>();
  for (const s of sources) for (const n of gradTestNames(s)) found.add(n);
  return names.filter((n) => !found.has(n));
}

describe('op coverage', () => {
  test('the matcher finds real tests and ignores skipped or commented ones', () => {
    const src = [
      "test('grad: add', () => {});",
      'it(`grad: sub`, () => {});',
      'test("grad: mul (broadcast)", () => {});',
      "test.skip('grad: div', () => {});",
      "// test('grad: exp', () => {});",
      "test.todo('grad: log');",
      "test('grad: sumx', () => {});",
    ].join('\n');
    expect([...gradTestNames(src)].sort()).toEqual(['add', 'mul', 'sub', 'sumx']);
    expect(missingGradTests(['add', 'div', 'exp', 'log', 'sum'], [src])).toEqual([
      'div',
      'exp',
      'log',
      'sum',
    ]);
  });

  test('every primitive in the op table has a `grad: <name>` test', () => {
    // This file's own matcher fixtures must not count as gradient tests.
    const self = basename(fileURLToPath(import.meta.url));
    const files = readdirSync(here).filter((f) => f.endsWith('.test.ts') && f !== self);
    expect(files.length).toBeGreaterThan(3);
    const sources = files.map((f) => readFileSync(join(here, f), 'utf8'));
    expect(primitiveNames.length).toBeGreaterThan(20);
    const missing = missingGradTests(primitiveNames, sources);
    expect(missing, `primitives without a 'grad: <name>' test: ${missing.join(', ')}`).toEqual([]);
  });
});
