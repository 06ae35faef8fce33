// A temporary directory for a test file's fakes, removed when the test process exits:
// the fake lab and the phase and runner contexts make one each, hundreds in a unit run,
// and /tmp kept every one of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** mkdtemp under the system's temporary directory, removed at the process's exit. */
export function tempDirSync(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function removeAll(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
}
