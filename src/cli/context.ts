// What every command shares: where the cache and results go, the logger, progress.
import { join } from 'node:path';
import { cacheDir } from '../kernel/cache.js';
import { projectRoot } from '../util/project-root.js';
import { createLogger, type Logger } from '../util/logger.js';
import { makeProgress, type Progress } from './progress.js';

export interface Context {
  cache: string;
  project: string;
  log: Logger;
  progress: Progress;
}

export function makeContext(opts: { cacheDir?: string; logFile?: string; quiet?: boolean }): Context {
  return {
    cache: cacheDir(opts.cacheDir),
    project: projectRoot(),
    log: createLogger({ file: opts.logFile, quiet: opts.quiet }),
    progress: makeProgress(opts.quiet),
  };
}

export const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');
export const defaultRunLogDir = (project: string): string => join(project, 'results', `vm-${stamp()}`);
