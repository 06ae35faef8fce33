// The loader's progress as a one-line file another process can poll (the scenario runner
// reads it through the guest agent): successful completions so far, errors so far, and
// the loader's CLOCK_MONOTONIC time, written atomically on every progress tick. And the
// other way, its control file (<progress file>.ctl): the runner writes a signal's name
// there and the loader acts on it at once (inotify) or at the latest on its next tick, so
// ending the load needs no process start in the guest (a pkill took seconds under TCG on
// a busy machine).
import { readFileSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
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

/** The progress callback of progressFileWriter, and the end of its control file's watch. */
export interface ProgressFileWriter {
  (p: Progress): void;
  /** Stops watching the control file (the job is over). */
  close(): void;
}

/** An inotify watch on `file` calling `onChange`; undefined where none can be had (the tick still reads the file). */
function watchFile(file: string, onChange: () => void): FSWatcher | undefined {
  try {
    const w = watch(file, { persistent: false }, onChange);
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined;
  }
}

/**
 * A progress callback that keeps `path` up to date (write to a temporary name, rename)
 * and acts on its control file: `act` gets the signal named there once (by default it
 * is sent to this process, as if from kill(1)). A control file left from an earlier
 * loader is replaced by an empty one, which is watched: a write to it is acted on at
 * once, not a progress tick later (up to 100 ms of the runner's wait, and under TCG a
 * tick's file reads cost). Every tick still reads it: a control file written as a new
 * file (a rename over it) is seen there.
 */
export function progressFileWriter(path: string, act: (s: ControlSignal) => void = (s) => process.kill(process.pid, s)): ProgressFileWriter {
  const tmp = `${path}.tmp`;
  const ctl = controlFileOf(path);
  rmSync(ctl, { force: true });
  writeFileSync(ctl, '');
  let sent: ControlSignal | undefined;
  const check = (): void => {
    const want = readControl(ctl);
    if (want && want !== sent) {
      sent = want;
      act(want);
    }
  };
  const watcher = watchFile(ctl, check);
  const tick = (p: Progress): void => {
    writeFileSync(tmp, formatProgressLine(p));
    renameSync(tmp, path);
    check();
  };
  return Object.assign(tick, { close: () => watcher?.close() });
}
