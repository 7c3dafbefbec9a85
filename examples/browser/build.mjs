// Builds the browser demo (examples/browser/index.html): one esbuild bundle of demo.ts with @ecgnn/infer and
// @ecgnn/data/formats inlined, into examples/browser/dist/demo.js. With --serve, serves examples/browser on
// http://127.0.0.1:8080 (or --port N) until interrupted; open the printed URL.
//
//   node examples/browser/build.mjs [--serve] [--port 8080]      (root script: pnpm demo)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The esbuild options of the demo bundle (the test builds the same, in memory). */
export function demoBuildOptions() {
  return {
    entryPoints: [join(here, 'demo.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@ecgnn/source'],
    legalComments: 'none',
    minify: true,
  };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function main() {
  const { build } = await import('esbuild');
  const out = join(here, 'dist', 'demo.js');
  const r = await build({ ...demoBuildOptions(), outfile: out, metafile: true });
  const bytes = Object.values(r.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  console.log(`built ${out} (${bytes} bytes)`);
  const args = process.argv.slice(2);
  if (!args.includes('--serve')) return;
  const pi = args.indexOf('--port');
  const port = pi >= 0 ? Number(args[pi + 1]) : 8080;
  createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = resolve(here, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!file.startsWith(here)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  }).listen(port, '127.0.0.1', () => console.log(`demo: http://127.0.0.1:${port}/`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
