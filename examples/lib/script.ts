/**
 * What every example script does the same way: the start of a run (backend, data, output folder, provenance),
 * run `main` when the file is the one Node was started with (expected failures print their message only and
 * exit 1), and merge its results rows into a results file.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '@ecgnn/data';
import { type ResultsRow, recordResultsRow } from '@ecgnn/train';

/**
 * Runs `main(process.argv.slice(2))` when the module at `metaUrl` (its `import.meta.url`) is the script Node was
 * started with. Errors that are instances of `expected` (usage errors) or @ecgnn/data's `DataError` (missing data,
 * a failed download) print `error: <message>`; anything else prints with its stack. Either sets exit code 1.
 */
export function runIfInvoked(
  metaUrl: string,
  main: (argv: readonly string[]) => Promise<unknown>,
  expected: ReadonlyArray<abstract new (...args: never[]) => Error> = [],
): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(metaUrl)) return;
  main(process.argv.slice(2)).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof DataError || expected.some((E) => err instanceof E))
        console.error(`error: ${(err as Error).message}`);
      else console.error(err);
      process.exitCode = 1;
    },
  );
}

/** Merges `rows` into the results file `file` by id (regenerating results.md beside it) and logs which. */
export function recordRows(file: string, rows: readonly ResultsRow[], log: (line: string) => void): void {
  for (const row of rows) recordResultsRow(file, row);
  log(`results: ${rows.map((r) => r.id).join(', ')} merged into ${file} (and results.md beside it)`);
}

/**
 * The start every experiment script shares (@ecgnn/train's `startExperiment`, which the `ecgnn` CLI's experiment
 * commands use too): refuses to record smoke rows into docs/results.json, selects the backend, makes sure the
 * run's database is there, creates the output folder and returns the provenance of the rows.
 */
export {
  type ExperimentStart as ScriptStart,
  type ExperimentStartOptions as ScriptStartOptions,
  startExperiment as startScript,
} from '@ecgnn/train';
