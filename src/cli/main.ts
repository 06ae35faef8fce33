#!/usr/bin/env node
// reset-bench: the command line. Exit codes (CONTRACT): 0 all PASS, 1 any FAIL,
// 2 usage or configuration error, 3 harness error.
import type { Command } from 'commander';
import { errorMessage, exitCodeOf, UsageError } from '../util/errors.js';
import { killAll } from '../vm/reaper.js';

type Register = (program: Command) => void;

/**
 * The top-level commands, in help order, and the module that adds them. Only the module
 * of the command being run is imported: `load` may run in a guest under TCG, where every
 * module (scenario runner, reports, execa, zod, pino...) costs.
 * Help and errors of a command involve only that command, so they do not change.
 */
const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['kernel'], load: async () => (await import('./kernel-command.js')).registerKernelCommand },
  { names: ['vm'], load: async () => (await import('./vm-command.js')).registerVmCommand },
  { names: ['run', 'compare', 'list'], load: async () => (await import('./run-command.js')).registerRunCommands },
  { names: ['load'], load: async () => (await import('./load-command.js')).registerLoadCommand },
  { names: ['report', 'merge'], load: async () => (await import('./report-command.js')).registerReportCommand },
  { names: ['bench'], load: async () => (await import('./bench-command.js')).registerBenchCommand },
];

/** The modules to import for this command line: the named command's, or all (help, typos). */
function modulesFor(args: readonly string[]): typeof COMMAND_MODULES {
  const first = args[0];
  const only = COMMAND_MODULES.find((m) => first !== undefined && m.names.includes(first));
  return only ? [only] : COMMAND_MODULES;
}

async function main(argv: string[]): Promise<number> {
  const { Command, CommanderError } = await import('commander');
  const program = new Command('reset-bench')
    .description('proves on real kernels in QEMU that NVMe/RDMA survives an RDMA device reset')
    .exitOverride()
    .showHelpAfterError();
  try {
    for (const register of await Promise.all(modulesFor(argv.slice(2)).map((m) => m.load()))) register(program);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return 2;
    }
    const code = exitCodeOf(err);
    process.stderr.write(`reset-bench: ${code === 2 ? '' : 'error: '}${errorMessage(err)}\n`);
    if (code === 3 && err instanceof Error && err.stack && process.env.RESET_BENCH_DEBUG) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : code;
  }
}

/** Exits once stdout and stderr are flushed: a pipe reader must get all of a big --json. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv).then(
  (code) => {
    killAll();
    exitAfterFlush(code);
  },
  (err: unknown) => {
    process.stderr.write(`reset-bench: ${errorMessage(err)}\n`);
    killAll();
    process.exit(3);
  },
);
