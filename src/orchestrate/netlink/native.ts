// The addon's raw netlink socket (src/native/netlink.cc), typed. Loaded lazily so
// that code which only uses the codecs never needs the addon.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface NativeNetlink {
  nlOpen(protocol: number, groups?: number, netnsPath?: string): { fd: number; portid: number; extAck: boolean };
  nlSetOpt(fd: number, opt: number, value: number): void;
  nlAddMembership(fd: number, group: number): void;
  nlSend(fd: number, buf: Buffer): number;
  nlRecv(fd: number, timeoutMs: number, max?: number): Buffer[];
  nlRecvAsync(fd: number, timeoutMs: number, max?: number): Promise<Buffer[]>;
  nlClose(fd: number): void;
}

let cached: NativeNetlink | undefined;

/** src/orchestrate/netlink or dist/orchestrate/netlink -> <root>/build/Release. */
export function addonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', '..', 'build', 'Release', 'reset_bench_native.node');
}

export function loadNativeNetlink(): NativeNetlink {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const mod = require(addonPath()) as Partial<NativeNetlink> & { netlinkAvailable?: boolean };
  if (!mod.netlinkAvailable || typeof mod.nlOpen !== 'function')
    throw new Error(`${addonPath()} has no netlink socket: rebuild the addon (npx node-gyp build)`);
  cached = mod as NativeNetlink;
  return cached;
}
