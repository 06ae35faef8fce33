// Why: the initramfs tests read back the newc archives src/vm/cpio.ts writes, to check
// every entry's path, mode, device numbers and bytes. The harness only writes them.

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Reads a newc archive back: every entry but the trailer, in order. */
export function readCpio(buf: Buffer): { path: string; mode: number; data: Buffer; rdev: [number, number] }[] {
  const out: { path: string; mode: number; data: Buffer; rdev: [number, number] }[] = [];
  let off = 0;
  for (;;) {
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${off}: ${JSON.stringify(magic)}`);
    const field = (i: number): number => parseInt(buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const namesize = field(11);
    const rdev: [number, number] = [field(9), field(10)];
    const nameStart = off + 110;
    const path = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    let p = nameStart + namesize;
    p += pad4(p - off);
    if (path === 'TRAILER!!!') break;
    const data = buf.subarray(p, p + size);
    p += size + pad4(size);
    out.push({ path, mode, data, rdev });
    off = p;
  }
  return out;
}
