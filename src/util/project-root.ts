// Where the project is (dist/util/project-root.js, src/util/project-root.ts or a chunk of
// the guest's bundle in dist/guest-bundle/: all two levels below the project root), and
// its version from package.json, read once. The one place that knows where this file
// sits in the tree. No zod here: the guest's agent reaches this file at boot (the native
// addon's path), where every module costs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HarnessError } from './errors.js';

/**
 * Where this file is, two levels up; except in the copy of the guest bundle a lab VM's
 * init runs the agent from (/.rb/agent, in the initramfs, not in the project's tree):
 * there, RB_PROJECT, which the init sets from the kernel command line.
 */
export function projectRoot(): string {
  const copied = import.meta.url.startsWith('file:///.rb/');
  return copied && process.env.RB_PROJECT ? process.env.RB_PROJECT : resolve(new URL('../..', import.meta.url).pathname);
}

let version: string | undefined;

/** package.json's version: what results.json names as the tool's version. */
export function toolVersion(): string {
  if (version === undefined) {
    const file = join(projectRoot(), 'package.json');
    const v: unknown = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    if (typeof v !== 'string') throw new HarnessError(`${file}: "version" must be a string`);
    version = v;
  }
  return version;
}
