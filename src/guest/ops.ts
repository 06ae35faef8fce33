// The agent's built-in operations: processes, files, polling and the clock.
// Each takes validated arguments and a deadline in ms.
import { promises as fsp } from 'node:fs';
import { z } from 'zod';

export type Op = (args: Record<string, unknown>, deadlineMs: number) => Promise<unknown>;

const pathArg = z.object({ path: z.string().min(1) });

const ExecArgs = z.object({
  argv: z.array(z.string()).min(1),
  input: z.string().optional(),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const WaitForArgs = z.object({
  path: z.string().min(1),
  test: z.enum(['equals', 'notEquals', 'matches', 'exists', 'absent']),
  value: z.string().optional(),
  intervalMs: z.number().int().positive().default(20),
});

export interface ExecResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

async function exec(raw: Record<string, unknown>, deadlineMs: number): Promise<ExecResult> {
  const a = ExecArgs.parse(raw);
  const { execa } = await import('execa');
  const r = await execa(a.argv[0]!, a.argv.slice(1), {
    input: a.input,
    cwd: a.cwd,
    env: a.env,
    timeout: deadlineMs,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.failed && r.exitCode === undefined && !r.timedOut && !r.signal) {
    throw Object.assign(new Error(r.shortMessage), { code: (r.cause as { code?: string } | undefined)?.code, path: a.argv[0] });
  }
  return {
    exitCode: r.exitCode ?? -1,
    signal: r.signal ?? undefined,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut: r.timedOut,
  };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function holds(test: z.infer<typeof WaitForArgs>['test'], value: string | undefined, want?: string): boolean {
  const v = value?.trim();
  switch (test) {
    case 'exists':
      return v !== undefined;
    case 'absent':
      return v === undefined;
    case 'equals':
      return v === want;
    case 'notEquals':
      return v !== undefined && v !== want;
    case 'matches':
      return v !== undefined && new RegExp(want ?? '').test(v);
  }
}

/** Polls a file until the test holds; an ETIMEDOUT error says what was last seen. */
async function waitFor(raw: Record<string, unknown>, deadlineMs: number): Promise<{ value?: string; elapsedMs: number }> {
  const a = WaitForArgs.parse(raw);
  const start = Date.now();
  let last: string | undefined;
  const presenceOnly = a.test === 'exists' || a.test === 'absent';
  for (;;) {
    last = presenceOnly
      ? await fsp.lstat(a.path).then(
          () => '',
          () => undefined,
        )
      : await readIfExists(a.path);
    if (holds(a.test, last, a.value)) return { value: last?.trim(), elapsedMs: Date.now() - start };
    if (Date.now() - start >= deadlineMs) {
      throw Object.assign(
        new Error(
          `waited ${deadlineMs} ms for ${a.path} ${a.test}${a.value !== undefined ? ` ${JSON.stringify(a.value)}` : ''}; last seen ${last === undefined ? 'absent' : JSON.stringify(last.trim())}`,
        ),
        { code: 'ETIMEDOUT', path: a.path },
      );
    }
    await new Promise((r) => setTimeout(r, a.intervalMs));
  }
}

export const builtinOps: Record<string, Op> = {
  exec,
  waitFor,
  readFile: async (r) => fsp.readFile(pathArg.parse(r).path, 'utf8'),
  writeFile: async (r) => {
    const a = z.object({ path: z.string().min(1), data: z.string() }).parse(r);
    await fsp.writeFile(a.path, a.data);
    return null;
  },
  mkdir: async (r) => {
    const a = z.object({ path: z.string().min(1), recursive: z.boolean().optional() }).parse(r);
    await fsp.mkdir(a.path, { recursive: a.recursive });
    return null;
  },
  rmdir: async (r) => {
    await fsp.rmdir(pathArg.parse(r).path);
    return null;
  },
  symlink: async (r) => {
    const a = z.object({ target: z.string().min(1), path: z.string().min(1) }).parse(r);
    await fsp.symlink(a.target, a.path);
    return null;
  },
  unlink: async (r) => {
    await fsp.unlink(pathArg.parse(r).path);
    return null;
  },
  readdir: async (r) => fsp.readdir(pathArg.parse(r).path),
  exists: async (r) =>
    fsp.lstat(pathArg.parse(r).path).then(
      () => true,
      () => false,
    ),
  clock: async () => ({ monoNs: process.hrtime.bigint().toString() }),
};
