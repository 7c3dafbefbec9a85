export * from './dsp/index.js';
