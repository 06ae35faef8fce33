// The loader's progress as a one-line file another process can poll (the scenario runner
// reads it through the guest agent): successful completions so far, errors so far, and
// the loader's CLOCK_MONOTONIC time, written atomically on every progress tick.
import { renameSync, writeFileSync } from 'node:fs';
import type { Progress } from './native.js';

export interface ProgressLine {
  /** Reads and writes completed successfully (errors and retries are not counted). */
  completed: number;
  errors: number;
  nowNs: number;
}

export function formatProgressLine(p: Pick<Progress, 'reads' | 'writes' | 'errors' | 'nowNs'>): string {
  return `${p.reads + p.writes} ${p.errors} ${p.nowNs}\n`;
}

export function parseProgressLine(text: string): ProgressLine {
  const m = /^(\d+) (\d+) (\d+)\n?$/.exec(text);
  if (!m) throw new Error(`not a loader progress line: ${JSON.stringify(text.slice(0, 80))}`);
  return { completed: Number(m[1]), errors: Number(m[2]), nowNs: Number(m[3]) };
}

/** A progress callback that keeps `path` up to date (write to a temporary name, rename). */
export function progressFileWriter(path: string): (p: Progress) => void {
  const tmp = `${path}.tmp`;
  return (p) => {
    writeFileSync(tmp, formatProgressLine(p));
    renameSync(tmp, path);
  };
}
