// Benchmark engine process: `tfjs-cpu` (see tfjs.ts).
import { runEngine } from './common.js';
import { tfjsEngine } from './tfjs.js';

await runEngine(tfjsEngine('cpu'));
