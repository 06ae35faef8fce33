// GuestFs on the guest's own files: what the host reaches through the agent's file ops,
// for code that runs in the guest (the nvmet apply, src/guest/ops-nvmet.ts). Errors are
// node's, with the errno `code` (ENOENT, EEXIST, EINVAL...) GuestFs promises.
import { promises as fsp } from 'node:fs';
import type { GuestFs } from '../orchestrate/guest-fs.js';

export const localFs: GuestFs = {
  readFile: (path) => fsp.readFile(path, 'utf8'),
  writeFile: (path, data) => fsp.writeFile(path, data),
  mkdir: async (path) => {
    await fsp.mkdir(path);
  },
  rmdir: (path) => fsp.rmdir(path),
  symlink: (target, path) => fsp.symlink(target, path),
  unlink: (path) => fsp.unlink(path),
  readdir: (path) => fsp.readdir(path),
  // lstat: a dangling symlink (an allowed host whose host entry is gone) still exists.
  exists: (path) =>
    fsp.lstat(path).then(
      () => true,
      () => false,
    ),
};
