// Benchmark engine process: `ort-node` (see ort.ts).
import { runEngine } from './common.js';
import { ortEngine } from './ort.js';

await runEngine(ortEngine('node'));
