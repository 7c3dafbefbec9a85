#!/usr/bin/env node
// Executable entry point of `ecgnn-data` (see cli.ts).
import { runCli } from './cli.js';

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
