// Benchmark engine process: `tfjs-wasm` (see tfjs.ts).
import { runEngine } from './common.js';
import { tfjsEngine } from './tfjs.js';

await runEngine(tfjsEngine('wasm'));
