// A writer for the "newc" cpio format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Writing it ourselves
// lets us put device nodes (/dev/console) in it without being root.

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function header(f: {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rmajor: number;
  rminor: number;
  namesize: number;
}): string {
  return (
    '070701' +
    [f.ino, f.mode, 0, 0, f.nlink, 0, f.size, 0, 0, f.rmajor, f.rminor, f.namesize, 0].map(hex8).join('')
  );
}

function record(ino: number, name: string, mode: number, data: Uint8Array, nlink: number, rdev = [0, 0]): Buffer[] {
  const nameBuf = Buffer.from(`${name}\0`, 'utf8');
  const head = Buffer.from(
    header({ ino, mode, nlink, size: data.length, rmajor: rdev[0]!, rminor: rdev[1]!, namesize: nameBuf.length }),
    'latin1',
  );
  const out = [head, nameBuf, Buffer.alloc(pad4(head.length + nameBuf.length))];
  if (data.length) out.push(Buffer.from(data), Buffer.alloc(pad4(data.length)));
  return out;
}

/** Serialises entries in order; parent directories must come before their children. */
export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (!name) throw new Error('cpio entry with an empty path');
    switch (e.kind) {
      case 'dir':
        parts.push(...record(ino++, name, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(), 2));
        break;
      case 'file':
        parts.push(...record(ino++, name, S_IFREG | (e.mode ?? 0o644), e.data, 1));
        break;
      case 'symlink':
        parts.push(...record(ino++, name, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'), 1));
        break;
      case 'chardev':
        parts.push(...record(ino++, name, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(), 1, [e.major, e.minor]));
        break;
    }
  }
  parts.push(...record(0, 'TRAILER!!!', 0, new Uint8Array(), 1));
  return Buffer.concat(parts);
}
