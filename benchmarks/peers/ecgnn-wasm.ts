// Benchmark engine process: `ecgnn-wasm` (see ecgnn.ts).
import { runEngine } from './common.js';
import { ecgnnEngine } from './ecgnn.js';

await runEngine(ecgnnEngine('ecgnn-wasm'));
