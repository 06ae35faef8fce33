// The job spec as it crosses a process boundary: one JSON document (`reset-bench load
// --job '<json>'`), written by the host and checked once, by parseJobSpec, in the process
// that runs the job. No flag-by-flag string round trip: "10" meant seconds for --runtime
// but milliseconds for --interval; a document has one unit per field (see JobSpec).
import { UsageError } from '../util/errors.js';
import { parseJobSpec, type JobSpec, type JobSpecInput } from './spec.js';

/** A job spec without its state buffer (a state crosses as a file: --state). */
export type JobDocument = Omit<JobSpecInput, 'state'>;

/** The document for `load --job` (typed on the host; checked where it runs). */
export function jobDocument(spec: JobDocument): string {
  if ('state' in spec) throw new TypeError('jobDocument: a state buffer cannot cross as JSON; save it and pass --state');
  return JSON.stringify(spec);
}

/**
 * Parses and checks a job document, with the state read from --state if any: the one
 * check of the job (hand it to runJob, which does not check again). UsageError naming
 * --job or the field.
 */
export function parseJobDocument(text: string, state?: Uint8Array): JobSpec {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`not a JSON job document: ${(e as Error).message}`, '--job');
  }
  if (typeof data === 'object' && data !== null && 'state' in data)
    throw new UsageError('a job document cannot carry the state: give it as a file with --state', '--job');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError('expected a JSON object', '--job');
  return parseJobSpec(state ? { ...data, state } : data);
}

/**
 * parseJobDocument for a job given as an option (`load --job`, op load.run's `job`): a
 * field's error names --job, its message the field ("--job: iodepth: Too small ...").
 */
export function parseJobOption(text: string, state?: Uint8Array): JobSpec {
  try {
    return parseJobDocument(text, state);
  } catch (e) {
    if (e instanceof UsageError && e.field && !e.field.startsWith('--')) throw new UsageError(e.message, '--job');
    throw e;
  }
}
