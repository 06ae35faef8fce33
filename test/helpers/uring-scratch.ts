// Shared set-up of the loader's tests that need io_uring: the whole file is skipped,
// saying why, where this kernel or sandbox has no io_uring; otherwise a scratch
// directory, removed when the file's tests end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { uringAvailable } from '../../src/load/native.js';

/** A scratch directory named `prefix`..., or undefined after planning the file as skipped. */
export function uringScratchDir(prefix: string): string | undefined {
  const avail = uringAvailable();
  if (!avail.ok) {
    t.plan(0, `skip: ${avail.reason}`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
