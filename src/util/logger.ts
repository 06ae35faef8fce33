// pino logs: JSON to a file per run, pretty on stderr only when it is a TTY.
// Synchronous streams, so nothing is lost when the CLI exits with a code.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { UsageError } from './errors.js';

export type { Logger };

export function createLogger(opts: { file?: string; level?: string; quiet?: boolean } = {}): Logger {
  const level = logLevel(opts.level ?? process.env.RESET_BENCH_LOG_LEVEL ?? 'info');
  const streams: pino.StreamEntry[] = [];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ level: 'debug', stream: pino.destination({ dest: opts.file, sync: true }) });
  }
  if (!opts.quiet && process.stderr.isTTY) {
    streams.push({ level, stream: pretty({ destination: 2, colorize: true, sync: true }) });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  return pino({ level: 'debug' }, pino.multistream(streams));
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** The stderr log level; a bad RESET_BENCH_LOG_LEVEL is a usage error naming it. */
function logLevel(v: string): pino.Level {
  if (!LEVELS.includes(v)) throw new UsageError(`"${v}" is not a log level (use one of ${LEVELS.join(', ')})`, 'RESET_BENCH_LOG_LEVEL');
  return v as pino.Level;
}

/** A logger that writes nothing: for tests and library calls without a run. */
export const silentLogger: Logger = pino({ level: 'silent' });
