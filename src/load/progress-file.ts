// The loader's progress as a one-line file another process can poll (the scenario runner
// reads it through the guest agent): successful completions so far, errors so far, and
// the loader's CLOCK_MONOTONIC time, written atomically on every progress tick. And the
// other way, its control file (<progress file>.ctl): the runner writes a signal's name
// there and the loader signals itself on its next tick, so ending the load needs no
// process start in the guest (a pkill took seconds under TCG on a busy machine).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** The control file of a progress file. */
export const controlFileOf = (progressFile: string): string => `${progressFile}.ctl`;

/** What the runner may ask of the loader: SIGUSR2 ends the I/O and reads back, SIGINT stops without. */
export const CONTROL_SIGNALS = ['SIGUSR2', 'SIGINT'] as const;
export type ControlSignal = (typeof CONTROL_SIGNALS)[number];

/** The signal a control file asks for, if any (anything else in it is ignored). */
export function readControl(path: string): ControlSignal | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  return CONTROL_SIGNALS.find((s) => s === text);
}

/**
 * A progress callback that keeps `path` up to date (write to a temporary name, rename)
 * and acts on its control file: the signal named there is sent to this process once, as
 * if from kill(1). A control file left from an earlier loader is removed first.
 */
export function progressFileWriter(path: string, signal: (s: ControlSignal) => void = (s) => process.kill(process.pid, s)): (p: Progress) => void {
  const tmp = `${path}.tmp`;
  const ctl = controlFileOf(path);
  rmSync(ctl, { force: true });
  let sent: ControlSignal | undefined;
  return (p) => {
    writeFileSync(tmp, formatProgressLine(p));
    renameSync(tmp, path);
    const want = readControl(ctl);
    if (want && want !== sent) {
      sent = want;
      signal(want);
    }
  };
}
