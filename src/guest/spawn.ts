// Why: the agent's `exec` ran every guest process through execa, and importing execa in
// a TCG guest took 4.9 s (its files and dependencies read over 9p and compiled on an
// emulated CPU). The first exec of a run (the target's modprobes) waited for that
// import. This runs a process the same way (an argument array, never a shell; a
// deadline; stdin input; the whole output) on node:child_process alone, which node has
// loaded already. The host side still uses execa (src/util/exec.ts).
import { spawn } from 'node:child_process';
import { GUEST_EXEC_KILL_GRACE_MS } from '../util/timeouts.js';

export interface SpawnRequest {
  argv: string[];
  input?: string;
  cwd?: string;
  /** Added to the agent's environment (as execa's extendEnv did). */
  env?: Record<string, string>;
  deadlineMs: number;
  /** stdout and stderr together may not exceed this many bytes. */
  maxBuffer: number;
}

export interface SpawnResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A process that could not start (ENOENT, EACCES) rejects with that errno code and the path. */
export function runProcess(req: SpawnRequest): Promise<SpawnResult> {
  const [file, ...args] = req.argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { cwd: req.cwd, env: req.env ? { ...process.env, ...req.env } : process.env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let timedOut = false;
    let overflow = false;
    let graceTimer: NodeJS.Timeout | undefined;
    // A grandchild can hold the pipes open after the process ended: once it is being
    // killed, or its deadline passed after it exited, its output is what has come.
    const dropPipes = (): void => {
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return dropPipes();
      child.kill('SIGTERM');
      graceTimer = setTimeout(() => child.kill('SIGKILL'), GUEST_EXEC_KILL_GRACE_MS);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      kill();
    }, req.deadlineMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > req.maxBuffer) {
        if (!overflow) kill();
        overflow = true;
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      reject(Object.assign(new Error(`${file}: ${e.message}`), { code: e.code, path: file }));
    });
    child.on('exit', () => {
      if (timedOut || overflow) dropPipes();
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      if (overflow) {
        reject(Object.assign(new Error(`${file}: its output passed ${req.maxBuffer} bytes`), { code: 'ENOBUFS', path: file }));
        return;
      }
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ exitCode: code ?? -1, ...(signal ? { signal } : {}), stdout, stderr, timedOut });
    });
    // A child that exits before reading its input closes the pipe: EPIPE is not an error of the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(req.input ?? '');
  });
}
