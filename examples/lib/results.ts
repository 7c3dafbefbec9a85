/**
 * docs/results.json and docs/results.md: the machine-readable results rows (../shared/results-format.md) and the
 * tables generated from them, written by `@ecgnn/train` (one implementation for every experiment script).
 * Experiment scripts merge their row by id; nobody edits either file by hand.
 */
export { recordResultsRow, resultsMarkdown } from '@ecgnn/train';
