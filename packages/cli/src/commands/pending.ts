/**
 * Commands whose method is not built yet: registered so that `--help` documents them and scripts can find them,
 * but running one says which issue builds it and fails (exit code 1). Never faked.
 */
import type { Command } from 'commander';
import { CliError, type RunContext } from '../io.js';

/** A command not built yet: its name, what it will do, the issue that builds it, and where the method runs today. */
export interface PendingCommand {
  name: string;
  description: string;
  issue: number;
  /** The example script that runs the method today, if any. */
  script?: string;
}

/** The commands of issue #28 not built yet (the methods behind prune, binarize and meta run as example scripts). */
export const PENDING_COMMANDS: readonly PendingCommand[] = [
  {
    name: 'prune',
    description: 'lottery-ticket pruning with goal-driven stopping (method 3), exported sparse',
    issue: 28,
    script: 'examples/lth.ts',
  },
  {
    name: 'binarize',
    description: 'binary neural network (method 5): train, fold, export bit-packed',
    issue: 28,
    script: 'examples/bnn.ts',
  },
  {
    name: 'meta',
    description: 'meta-learning for few-shot ECG diagnosis (method 2: SNAIL over episodes)',
    issue: 28,
    script: 'examples/meta.ts',
  },
  {
    name: 'pipeline',
    description:
      'MIT-BIH → teacher → student → pruned → binary, each exported and checked, with an HTML report',
    issue: 28,
  },
];

/** The message of running a pending command. */
export function notBuiltMessage(c: PendingCommand): string {
  const today = c.script
    ? `; the method runs today as pnpm exec tsx --conditions=@ecgnn/source ${c.script}`
    : '';
  return `not built yet: issue #${c.issue} (ecgnn ${c.name})${today}`;
}

/** Registers every {@link PENDING_COMMANDS} entry on `program`. Unknown options are accepted (the flags are not settled). */
export function registerPending(program: Command, _ctx: RunContext): void {
  for (const c of PENDING_COMMANDS)
    program
      .command(c.name)
      .description(`${c.description} [not built yet: issue #${c.issue}]`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new CliError(notBuiltMessage(c));
      });
}
