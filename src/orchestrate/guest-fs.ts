// The file operations the orchestrator needs inside a guest, done from the host over
// the agent channel (src/vm/agent-client.ts); the tests use an in-memory configfs.
// Errors carry errno-style `code` (ENOENT, EEXIST, EINVAL, ...) and `path`.
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
