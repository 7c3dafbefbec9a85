#!/usr/bin/env node
// Checks the monorepo's import rules; exits non-zero on any violation.
//  1. A package's sources import other packages only by a name listed in that package's
//     `exports` (no deep imports into another package's internals), and only packages they
//     declare in package.json.
//  2. Relative imports never leave the package (tests may also import the shared harness in test-utils/).
//  3. No import cycles: neither between packages (runtime dependencies) nor between modules
//     inside a package (value imports; `import type` is erased and does not count).
//  4. @ecgnn/infer has zero runtime dependencies: the workspace packages it imports are listed in its
//     `ecgnn.bundled` field (devDependencies, inlined into its dist by its build) and must themselves have no
//     dependencies, so the bundle imports nothing.
//  5. No cycles at dev time either: the package graph over dependencies AND devDependencies is acyclic.
//  6. The package graph stays the documented one (docs/architecture.md): each package's workspace
//     dependencies are a subset of ALLOWED below, and nothing depends on examples or benchmarks.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const pkgRoot = join(root, 'packages');
const errors = [];

const pkgs = new Map(); // name -> { dir, json }
for (const d of readdirSync(pkgRoot)) {
  const p = join(pkgRoot, d, 'package.json');
  if (!existsSync(p)) continue;
  const json = JSON.parse(readFileSync(p, 'utf8'));
  pkgs.set(json.name, { dir: join(pkgRoot, d), json });
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// Strip comments so examples inside TSDoc are not read as imports.
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const importRe =
  /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file) {
  const src = stripComments(readFileSync(file, 'utf8'));
  const res = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[3] ?? m[4];
    const typeOnly = Boolean(m[2]);
    // `import { type A, type B } from` is also type-only when every name is typed.
    let allTyped = false;
    if (!typeOnly && m[0].includes('{')) {
      const inner = m[0].slice(m[0].indexOf('{') + 1, m[0].indexOf('}'));
      const names = inner
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      allTyped = names.length > 0 && names.every((n) => n.startsWith('type '));
    }
    res.push({ spec, typeOnly: typeOnly || allTyped });
  }
  return res;
}

function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const cands = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  for (const c of cands) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

// Workspace packages each package may depend on (runtime or bundled), the layering of docs/architecture.md.
const ALLOWED = {
  '@ecgnn/kernels': [],
  '@ecgnn/dsp': [],
  '@ecgnn/core': ['@ecgnn/kernels'],
  '@ecgnn/data': ['@ecgnn/dsp', '@ecgnn/kernels'],
  '@ecgnn/infer': ['@ecgnn/kernels', '@ecgnn/dsp'],
  '@ecgnn/gpu': ['@ecgnn/core', '@ecgnn/kernels'],
  '@ecgnn/export': ['@ecgnn/core', '@ecgnn/infer', '@ecgnn/kernels'],
  '@ecgnn/models': ['@ecgnn/core', '@ecgnn/kernels'],
  '@ecgnn/train': [
    '@ecgnn/core',
    '@ecgnn/data',
    '@ecgnn/models',
    '@ecgnn/export',
    '@ecgnn/infer',
    '@ecgnn/kernels',
  ],
  '@ecgnn/cli': [
    '@ecgnn/core',
    '@ecgnn/data',
    '@ecgnn/models',
    '@ecgnn/train',
    '@ecgnn/export',
    '@ecgnn/infer',
    '@ecgnn/kernels',
    '@ecgnn/dsp',
  ],
};
const bundledOf = (json) => new Set(json.ecgnn?.bundled ?? []);
const workspaceDeps = (json, withDev) =>
  Object.keys({ ...(json.dependencies ?? {}), ...(withDev ? (json.devDependencies ?? {}) : {}) }).filter(
    (d) => pkgs.has(d),
  );

// Package-level cycle check over runtime AND dev dependencies (a test-time cycle is a cycle too).
const pkgGraph = new Map();
for (const [name, { json }] of pkgs) pkgGraph.set(name, workspaceDeps(json, true));
for (const [name, { json }] of pkgs) {
  const allowed = ALLOWED[name];
  if (allowed === undefined) {
    errors.push(`${name}: not in check-deps ALLOWED (add it with the packages it may depend on)`);
    continue;
  }
  const uses = [...workspaceDeps(json, false), ...bundledOf(json)];
  for (const d of uses) if (!allowed.includes(d)) errors.push(`${name} may not depend on ${d} (see ALLOWED)`);
  for (const d of workspaceDeps(json, true)) {
    if (d.includes('example') || d.includes('bench')) errors.push(`${name} depends on ${d}`);
  }
}
const infer = pkgs.get('@ecgnn/infer');
if (infer) {
  if (Object.keys(infer.json.dependencies ?? {}).length > 0) {
    errors.push('@ecgnn/infer must have zero runtime dependencies');
  }
  for (const b of bundledOf(infer.json)) {
    const bj = pkgs.get(b)?.json;
    if (!bj) errors.push(`@ecgnn/infer bundles unknown package ${b}`);
    else if (Object.keys(bj.dependencies ?? {}).length > 0)
      errors.push(`${b} is bundled into @ecgnn/infer but has dependencies`);
    if (!(b in (infer.json.devDependencies ?? {})))
      errors.push(`@ecgnn/infer bundles ${b}: list it in devDependencies`);
  }
}

function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1 = on stack, 2 = done
  const stack = [];
  function dfs(v) {
    state.set(v, 1);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (state.get(w) === 1) cycles.push([...stack.slice(stack.indexOf(w)), w]);
      else if (!state.has(w)) dfs(w);
    }
    stack.pop();
    state.set(v, 2);
  }
  for (const v of graph.keys()) if (!state.has(v)) dfs(v);
  return cycles;
}
for (const c of findCycles(pkgGraph)) errors.push(`package import cycle: ${c.join(' -> ')}`);

for (const [name, { dir, json }] of pkgs) {
  const exportsOf = (n) =>
    Object.keys(pkgs.get(n).json.exports ?? {}).map((k) => (k === '.' ? n : n + k.slice(1)));
  const check = (files, allowed, isTest) => {
    const modGraph = new Map();
    for (const f of files) {
      const edges = [];
      for (const { spec, typeOnly } of importsOf(f)) {
        const where = relative(root, f);
        if (spec.startsWith('.')) {
          const target = resolveRelative(f, spec);
          if (!target) {
            errors.push(`${where}: cannot resolve '${spec}'`);
            continue;
          }
          // Tests may share the repository's test harness (test-utils/: Chromium, reporters), nothing else.
          const sharedHarness = isTest && target.startsWith(join(root, 'test-utils') + '/');
          if (!target.startsWith(dir + '/') && !sharedHarness)
            errors.push(`${where}: relative import '${spec}' leaves ${name}`);
          if (!typeOnly) edges.push(target);
        } else if (spec.startsWith('@ecgnn/')) {
          const target = spec.split('/').slice(0, 2).join('/');
          if (!pkgs.has(target)) errors.push(`${where}: unknown package '${spec}'`);
          else if (!exportsOf(target).includes(spec))
            errors.push(`${where}: '${spec}' is not in ${target}'s exports (no deep imports)`);
          if (target !== name && !allowed.has(target))
            errors.push(`${where}: imports ${target} but ${name}/package.json does not declare it`);
        }
      }
      modGraph.set(f, edges);
    }
    for (const c of findCycles(modGraph))
      errors.push(`module import cycle: ${c.map((p) => relative(root, p)).join(' -> ')}`);
  };
  const deps = new Set([...Object.keys(json.dependencies ?? {}), ...bundledOf(json)]);
  const devDeps = new Set([...deps, ...Object.keys(json.devDependencies ?? {})]);
  check(walk(join(dir, 'src')), deps, false);
  check(walk(join(dir, 'test')), devDeps, true);
}

if (errors.length > 0) {
  for (const e of errors) console.error(`check-deps: ${e}`);
  console.error(`check-deps: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log(`check-deps: ${pkgs.size} packages, import rules hold, no cycles`);
