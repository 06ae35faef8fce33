// Why: a JSON file reset-bench reads back (its own cache's stamps, a run's artifacts) may
// be truncated or hand-edited. Each is checked with zod once, where it is read: missing is
// an answer (undefined), anything else that is not the expected shape is a UsageError
// naming the file, the field and what to do, never a crash later on a missing field.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { UsageError } from './errors.js';
import { describeIssues } from './zod-issues.js';

/** The file's contents checked against `schema`; undefined when the file does not exist. */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, fix: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read it (${(e as Error).message}); ${fix}`, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`not JSON (${(e as Error).message}); ${fix}`, file);
  }
  const r = schema.safeParse(data);
  if (!r.success) throw new UsageError(`${describeIssues(r.error)}; ${fix}`, file);
  return r.data;
}
