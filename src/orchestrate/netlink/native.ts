// The addon's raw netlink socket (src/native/netlink.cc), typed. Loaded lazily so
// that code which only uses the codecs never needs the addon.
import { addonPart } from '../../native-loader.js';

export interface NativeNetlink {
  nlOpen(protocol: number, groups?: number, netnsPath?: string): { fd: number; portid: number; extAck: boolean };
  /** On a worker thread: the kernel handles the request inside sendto, and may take long (netlink.cc). */
  nlSendAsync(fd: number, buf: Buffer): Promise<number>;
  nlRecvAsync(fd: number, timeoutMs: number, max?: number): Promise<Buffer[]>;
  nlClose(fd: number): void;
}

export function loadNativeNetlink(): NativeNetlink {
  return addonPart<NativeNetlink>('netlink socket', ['nlOpen', 'nlSendAsync', 'nlRecvAsync', 'nlClose']);
}
