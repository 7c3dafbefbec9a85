// Benchmark engine process: `pytorch-cpu` (see pytorch.ts).
import { runEngine } from './common.js';
import { pytorchEngine } from './pytorch.js';

await runEngine(pytorchEngine());
