// Benchmark engine process: `ecgnn-gpu-webgpu` (see ecgnn-gpu-browser.ts).
import { runEngine } from './common.js';
import { ecgnnGpuBrowserEngine } from './ecgnn-gpu-browser.js';

await runEngine(ecgnnGpuBrowserEngine('webgpu'));
