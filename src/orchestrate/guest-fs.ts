// The file operations the orchestrator needs inside a guest. In the guest it is
// node:fs (nodeGuestFs); on the host it is the agent channel (src/vm/agent-client.ts).
// Errors carry errno-style `code` (ENOENT, EEXIST, EINVAL, ...) and `path`.
import { promises as fsp } from 'node:fs';

export interface GuestFs {
  readFile(path: string): Promise<string>;
  writeFile(path: string, data: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}

export const nodeGuestFs: GuestFs = {
  readFile: (p) => fsp.readFile(p, 'utf8'),
  writeFile: (p, d) => fsp.writeFile(p, d),
  mkdir: async (p) => {
    await fsp.mkdir(p);
  },
  rmdir: (p) => fsp.rmdir(p),
  symlink: (t, p) => fsp.symlink(t, p),
  unlink: (p) => fsp.unlink(p),
  readdir: (p) => fsp.readdir(p),
  exists: async (p) => {
    try {
      await fsp.lstat(p);
      return true;
    } catch {
      return false;
    }
  },
};
