// Where the project is (dist/util/project-root.js or src/util/project-root.ts -> the
// project root), and its version from package.json, read once. The one place that
// knows where this file sits in the tree.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export function projectRoot(): string {
  return resolve(new URL('../..', import.meta.url).pathname);
}

let version: string | undefined;

/** package.json's version: what results.json names as the tool's version. */
export function toolVersion(): string {
  version ??= z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8'))).version;
  return version;
}
