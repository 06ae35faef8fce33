// The agent's built-in operations: processes, files, polling and the clock.
// Each takes validated arguments and a deadline in ms.
import { promises as fsp } from 'node:fs';
import { localFs } from './local-fs.js';
import { envFor } from './runtime-libs.js';
import { oneOf, optInt, optBool, optStr, optStringMap, str, strings } from './args.js';
import { GUEST_STATE_POLL_MS } from '../util/timeouts.js';

export type Op = (args: Record<string, unknown>, deadlineMs: number) => Promise<unknown>;

const path = (r: Record<string, unknown>): string => str(r, 'path');

const TESTS = ['equals', 'notEquals', 'matches', 'exists', 'absent', 'block'] as const;
type Test = (typeof TESTS)[number];

export interface ExecResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

async function exec(raw: Record<string, unknown>, deadlineMs: number): Promise<ExecResult> {
  const a = { argv: strings(raw, 'argv'), input: optStr(raw, 'input'), cwd: optStr(raw, 'cwd'), env: optStringMap(raw, 'env') };
  const { execa } = await import('execa');
  const r = await execa(a.argv[0]!, a.argv.slice(1), {
    input: a.input,
    cwd: a.cwd,
    env: envFor(a.argv[0]!, a.env),
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

/** What `block` sees of a path: a block device, something else, or nothing (undefined). */
const BLOCK_DEVICE = 'a block device';
async function blockKind(path: string): Promise<string | undefined> {
  return fsp.stat(path).then(
    (s) => (s.isBlockDevice() ? BLOCK_DEVICE : 'not a block device'),
    () => undefined,
  );
}

/** What a test looks at: the file's presence, its kind (block) or its content. */
async function look(test: Test, path: string): Promise<string | undefined> {
  if (test === 'block') return blockKind(path);
  if (test === 'exists' || test === 'absent')
    return fsp.lstat(path).then(
      () => '',
      () => undefined,
    );
  return readIfExists(path);
}

function holds(test: Test, value: string | undefined, want?: string): boolean {
  const v = value?.trim();
  switch (test) {
    case 'block':
      return v === BLOCK_DEVICE;
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
  const a = {
    path: path(raw),
    test: oneOf(raw, 'test', TESTS),
    value: optStr(raw, 'value'),
    intervalMs: optInt(raw, 'intervalMs', 1) ?? GUEST_STATE_POLL_MS,
  };
  const start = Date.now();
  let last: string | undefined;
  for (;;) {
    last = await look(a.test, a.path);
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

/** Loads what the first exec needs; the agent calls it once it has said "ready". */
export async function warmUp(): Promise<void> {
  await import('execa');
}

export const builtinOps: Record<string, Op> = {
  exec,
  waitFor,
  readFile: async (r) => localFs.readFile(path(r)),
  writeFile: async (r) => {
    const p = path(r);
    await localFs.writeFile(p, str(r, 'data', { empty: true }));
    return null;
  },
  mkdir: async (r) => {
    const p = path(r);
    await fsp.mkdir(p, { recursive: optBool(r, 'recursive') });
    return null;
  },
  rmdir: async (r) => {
    await localFs.rmdir(path(r));
    return null;
  },
  symlink: async (r) => {
    const target = str(r, 'target');
    await localFs.symlink(target, path(r));
    return null;
  },
  unlink: async (r) => {
    await localFs.unlink(path(r));
    return null;
  },
  readdir: async (r) => localFs.readdir(path(r)),
  exists: async (r) => localFs.exists(path(r)),
  /** The path with every symbolic link resolved (a sysfs device link: no `readlink -f` process). */
  realpath: async (r) => fsp.realpath(path(r)),
  clock: () => Promise.resolve({ monoNs: process.hrtime.bigint().toString() }),
};
