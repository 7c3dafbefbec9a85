#!/usr/bin/env node
// Executable entry point of `ecgnn` (see program.ts): runs the program on the process's arguments and streams.
import { run } from './program.js';

// A closed pipe (`ecgnn data info | head`) ends the run quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });

run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
