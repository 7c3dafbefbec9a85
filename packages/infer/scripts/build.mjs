// The published build of @ecgnn/infer: ESM bundles that inline @ecgnn/kernels and @ecgnn/dsp (the package has no
// runtime dependencies) and declaration bundles that do not import them.
//
//   dist/index.js, dist/binary/index.js   esbuild bundles (browser-safe), from src/ with the @ecgnn/source condition
//   dist/node.js                          esbuild bundle of src/node.ts: node: builtins and ./index.js stay imports
//   dist/index.d.ts, dist/binary/index.d.ts   dts-bundle-generator over tsc's declarations (dist/tsc/, written by
//                                         the root `tsc -b`), the types of @ecgnn/kernels and @ecgnn/dsp inlined
//   dist/node.d.ts                        tsc's declaration of src/node.ts (it imports ./index.js only)
//   dist/browser/infer.min.js             the main entry minified (the `browser` export condition): a page's
//                                         <script type="module"> imports it as is, no build step
//   dist/browser/sizes.json               its size in bytes, minified and minified + gzip (level 9), also printed
//
// Run after `tsc -b` (the root `pnpm build` does both). `bundleOptions` is also what test/bundle.test.ts builds.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The esbuild options of one entry (`index`, `binary/index` or `node`). */
export function bundleOptions(entry) {
  const node = entry === 'node';
  return {
    entryPoints: [join(root, 'src', `${entry}.ts`)],
    bundle: true,
    format: 'esm',
    platform: node ? 'node' : 'browser',
    target: 'es2022',
    conditions: ['@ecgnn/source'],
    legalComments: 'none',
    // The node entry imports the main entry: kept as an import of the sibling bundle (one copy of the runtime).
    plugins: node ? [mainEntryExternal] : [],
  };
}

/** Resolves `./index.js` imported by src/node.ts to the external sibling `./index.js`. */
const mainEntryExternal = {
  name: 'main-entry-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, (args) =>
      args.importer === join(root, 'src', 'node.ts') ? { path: './index.js', external: true } : undefined,
    );
  },
};

async function main() {
  const { build } = await import('esbuild');
  for (const entry of ['index', 'binary/index', 'node']) {
    await build({ ...bundleOptions(entry), outfile: join(root, 'dist', `${entry}.js`) });
  }
  // The browser bundle: the same build as dist/index.js, minified (what test/bundle.test.ts measures).
  const browser = join(root, 'dist', 'browser', 'infer.min.js');
  const min = await build({ ...bundleOptions('index'), minify: true, outfile: browser, write: false });
  const code = min.outputFiles[0].contents;
  const sizes = {
    file: 'dist/browser/infer.min.js',
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
  };
  mkdirSync(dirname(browser), { recursive: true });
  writeFileSync(browser, code);
  writeFileSync(join(root, 'dist', 'browser', 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `@ecgnn/infer: ${sizes.file} ${sizes.minified} bytes (${kib(sizes.minified)}) minified, ` +
      `${sizes.gzip} bytes (${kib(sizes.gzip)}) minified + gzip`,
  );
  const tsc = join(root, 'dist', 'tsc');
  if (!existsSync(join(tsc, 'index.d.ts'))) {
    throw new Error(`${tsc}/index.d.ts is missing: run \`tsc -b\` first (the root \`pnpm build\` does)`);
  }
  const { generateDtsBundle } = await import('dts-bundle-generator');
  const entries = ['index', 'binary/index'];
  const bundles = generateDtsBundle(
    entries.map((e) => ({
      filePath: join(tsc, `${e}.d.ts`),
      libraries: { inlinedLibraries: ['@ecgnn/kernels', '@ecgnn/dsp'] },
      output: { noBanner: true },
    })),
    { preferredConfigPath: join(root, 'tsconfig.bundle.json') },
  );
  entries.forEach((e, i) => {
    const out = join(root, 'dist', `${e}.d.ts`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bundles[i]);
  });
  copyFileSync(join(tsc, 'node.d.ts'), join(root, 'dist', 'node.d.ts'));
  console.log('@ecgnn/infer: dist/index.js, dist/binary/index.js, dist/node.js and their .d.ts written');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
