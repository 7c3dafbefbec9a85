// Benchmark engine process: `ecgnn-kernels` (see ecgnn.ts).
import { runEngine } from './common.js';
import { ecgnnEngine } from './ecgnn.js';

await runEngine(ecgnnEngine('ecgnn-kernels'));
