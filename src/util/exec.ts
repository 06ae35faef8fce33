// The one way this project runs a host process: execa with an argument array.
import { execa, type Options } from 'execa';
import { HarnessError } from './errors.js';
import { HOST_COMMAND_MS } from './timeouts.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a tool; a non-zero exit is a HarnessError that names the command and its stderr. */
export async function run(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string>; input?: string } = {},
): Promise<RunResult> {
  const options: Options = {
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? HOST_COMMAND_MS,
    env: opts.env,
    input: opts.input,
    reject: false,
    stripFinalNewline: true,
  };
  const r = await execa(file, args, options);
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  if (r.timedOut) {
    throw new HarnessError(`${file} ${args.join(' ')}: timed out after ${opts.timeoutMs ?? HOST_COMMAND_MS} ms`);
  }
  if (r.exitCode !== 0) {
    const tail = (stderr || stdout).split('\n').slice(-15).join('\n');
    throw new HarnessError(`${file} ${args.join(' ')} exited with ${r.exitCode ?? r.signal}:\n${tail}`);
  }
  return { stdout, stderr, exitCode: 0 };
}
