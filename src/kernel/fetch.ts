// The one entry to a series' kernel: read kernel-pins.json, pick the series (the file's
// default when none is given) and fetch its pinned packages into the cache.
import type { Logger } from '../util/logger.js';
import { fetchKernel, type Fetched } from './debian.js';
import { pickSeries, pinsFile, readPins } from './pins.js';
import { projectRoot } from '../util/project-root.js';

export interface SeriesKernelOptions {
  cache: string;
  series?: string;
  /** The pins file (default <project>/kernel-pins.json or $RESET_BENCH_PINS). */
  pins?: string;
  log?: Logger;
  progress?: (m: string) => void;
}

/** Fetches (once) the pinned kernel of a series. */
export async function fetchSeries(opts: SeriesKernelOptions): Promise<Fetched> {
  const pins = await readPins(pinsFile(projectRoot(), opts.pins));
  const { series, pin } = pickSeries(pins, opts.series);
  return fetchKernel({ cache: opts.cache, series, pin, log: opts.log, progress: opts.progress });
}

/** The default series the pins file names. */
export async function defaultSeries(pinsPath?: string): Promise<string> {
  return (await readPins(pinsFile(projectRoot(), pinsPath))).default;
}
