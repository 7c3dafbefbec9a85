// Benchmark engine process: `ecgnn-infer` (see ecgnn.ts).
import { runEngine } from './common.js';
import { ecgnnEngine } from './ecgnn.js';

await runEngine(ecgnnEngine('ecgnn-infer'));
