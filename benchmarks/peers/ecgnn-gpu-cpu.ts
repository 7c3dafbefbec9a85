// Benchmark engine process: `ecgnn-gpu-cpu` (see ecgnn-gpu.ts).
import { runEngine } from './common.js';
import { ecgnnGpuEngine } from './ecgnn-gpu.js';

await runEngine(ecgnnGpuEngine('cpu'));
