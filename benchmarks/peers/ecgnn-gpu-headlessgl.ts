// Benchmark engine process: `ecgnn-gpu-headlessgl` (see ecgnn-gpu.ts).
import { runEngine } from './common.js';
import { ecgnnGpuEngine } from './ecgnn-gpu.js';

await runEngine(ecgnnGpuEngine('headlessgl'));
