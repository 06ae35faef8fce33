// Why: every boundary that validates with zod (scenario files, target configurations,
// results.json, kernel pins) reports bad input the same way: the field
// as a path the user can find in the file (`runs[1].metrics.outage_ms`, zod's own dot
// path) and zod's message, on one line for a UsageError.
import { z } from 'zod';

/** An issue path as zod writes it (`a.b[2].c`), under `root` when given; '(top level)' for none. */
export function fieldPath(path: readonly PropertyKey[], root = ''): string {
  const p = z.core.toDotPath(path);
  if (!root) return p || '(top level)';
  return !p ? root : p.startsWith('[') ? `${root}${p}` : `${root}.${p}`;
}

/** Every issue as "field: message", joined by "; ". */
export function describeIssues(err: z.ZodError, root = ''): string {
  return err.issues.map((i) => `${fieldPath(i.path, root)}: ${i.message}`).join('; ');
}

/** The first issue's field, and its message with how many more problems there are. */
export function firstIssue(err: z.ZodError): { field: string; message: string } {
  const first = err.issues[0];
  if (!first) return { field: '(top level)', message: 'invalid' };
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem(s))` : '';
  return { field: fieldPath(first.path), message: `${first.message}${more}` };
}
