// Every wait has a deadline, and every deadline says what it waited for.
import { DeadlineError } from './errors.js';

export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `intervalMs` until it returns a value other than undefined. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { deadlineMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const end = Date.now() + opts.deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= end) throw new DeadlineError(opts.what, opts.deadlineMs);
    await sleep(opts.intervalMs ?? 50);
  }
}
