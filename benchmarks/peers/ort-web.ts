// Benchmark engine process: `ort-web` (see ort.ts).
import { runEngine } from './common.js';
import { ortEngine } from './ort.js';

await runEngine(ortEngine('web'));
