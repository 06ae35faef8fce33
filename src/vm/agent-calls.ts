// Why: what the harness asks of a guest agent beyond a bare call (a GuestFs, a wait for
// a sysfs value) is built from call() alone. AgentClient and the tests' FakeAgent share
// these builders, so the fake cannot drift from the real channel.
import type { GuestFs } from '../orchestrate/guest-fs.js';
import { GUEST_FS_CALL_MS, GUEST_STATE_POLL_MS } from '../util/timeouts.js';

export type AgentCall = <T = unknown>(op: string, args?: Record<string, unknown>, deadlineMs?: number) => Promise<T>;
/** `block`: the path is a block device (stat, not lstat: a /dev node or a link to one). */
export type WaitTest = 'equals' | 'notEquals' | 'matches' | 'exists' | 'absent' | 'block';


/** A GuestFs whose every call is an agent call with this deadline. */
export function guestFsOver(call: AgentCall, deadlineMs = GUEST_FS_CALL_MS): GuestFs {
  return {
    readFile: (path) => call<string>('readFile', { path }, deadlineMs),
    writeFile: async (path, data) => void (await call('writeFile', { path, data }, deadlineMs)),
    mkdir: async (path) => void (await call('mkdir', { path }, deadlineMs)),
    rmdir: async (path) => void (await call('rmdir', { path }, deadlineMs)),
    symlink: async (target, path) => void (await call('symlink', { target, path }, deadlineMs)),
    unlink: async (path) => void (await call('unlink', { path }, deadlineMs)),
    readdir: (path) => call<string[]>('readdir', { path }, deadlineMs),
    exists: (path) => call<boolean>('exists', { path }, deadlineMs),
  };
}

/** The agent polls `path` every intervalMs until `test` holds, or fails naming the last value. */
export function waitForOver(
  call: AgentCall,
  w: { path: string; test: WaitTest; value: string | undefined; deadlineMs: number; intervalMs?: number },
): Promise<{ value?: string; elapsedMs: number }> {
  return call('waitFor', { path: w.path, test: w.test, value: w.value, intervalMs: w.intervalMs ?? GUEST_STATE_POLL_MS }, w.deadlineMs);
}
