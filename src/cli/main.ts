#!/usr/bin/env node
// reset-bench: the command line. Exit codes (CONTRACT): 0 all PASS, 1 any FAIL,
// 2 usage or configuration error, 3 harness error.
import { Command, CommanderError } from 'commander';
import { errorMessage, exitCodeOf, UsageError } from '../util/errors.js';
import { killAll } from '../vm/reaper.js';
import { registerKernelCommand } from './kernel-command.js';
import { registerLoadCommand } from './load-command.js';
import { registerReportCommand } from './report-command.js';
import { registerRunCommands } from './run-command.js';
import { registerVmCommand } from './vm-command.js';

async function main(argv: string[]): Promise<number> {
  const program = new Command('reset-bench')
    .description('proves on real kernels in QEMU that NVMe/RDMA survives an RDMA device reset')
    .exitOverride()
    .showHelpAfterError();
  registerKernelCommand(program);
  registerVmCommand(program);
  registerRunCommands(program);
  registerLoadCommand(program);
  registerReportCommand(program);
  try {
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
