// Every wait has a deadline, and every deadline says what it waited for.
import { DeadlineError, HarnessError } from './errors.js';
import { POLL_MS } from './timeouts.js';

/**
 * Settles like p, or rejects with a DeadlineError naming `what` after ms, or with the
 * signal's reason once it aborts. The timer and the abort listener go in every case,
 * so a wait that lost its reason to exist leaves nothing behind to reject later.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    if (!signal) return;
    onAbort = () => reject(abortReason(signal, what));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, stop]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

function abortReason(signal: AbortSignal, what: string): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new HarnessError(`cancelled waiting for ${what}`);
}

/** Whether `p` settled (fulfilled or rejected) within `ms`; it is left running otherwise. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await withDeadline(p.then(() => undefined, () => undefined), ms, 'a promise to settle');
    return true;
  } catch (e) {
    if (e instanceof DeadlineError) return false;
    throw e;
  }
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
    await sleep(opts.intervalMs ?? POLL_MS);
  }
}
