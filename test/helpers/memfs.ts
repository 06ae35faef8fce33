// An in-memory GuestFs that follows nvmet's configfs rules closely enough to test
// apply/teardown ordering without a kernel (a test double: nothing in src/ uses it): groups
// appear with their default attributes on mkdir, rmdir fails on non-empty groups
// (ENOTEMPTY) or link targets (EBUSY), a port's address is read-only while it has
// links (EACCES), device_path/uuid only change while disabled (EBUSY), allow_any_host
// and allowed_hosts exclude each other (EINVAL), and the first port link "enables"
// the port (EINVAL without an address, EADDRINUSE for a duplicate address).
// Any other path works like a plain tree seeded with seedFile/seedDir.
import { randomUUID } from 'node:crypto';
import type { GuestFs } from '../../src/orchestrate/guest-fs.js';
import { NVMET_ROOT } from '../../src/orchestrate/configfs/nvmet.js';
import { ADRFAMS, TREQS, TRTYPES } from '../../src/orchestrate/configfs/model.js';

type Node =
  | { kind: 'dir'; user: boolean }
  | { kind: 'file'; value: string; readOnly?: boolean }
  | { kind: 'link'; target: string };

function fsError(code: string, op: string, path: string): Error {
  const e = new Error(`${code}: ${op} '${path}'`) as Error & { code: string; path: string };
  e.code = code;
  e.path = path;
  return e;
}

const dirname = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MemConfigfsOptions {
  root?: string;
  /** Paths a namespace may enable on (default /dev/nullb0). */
  devices?: string[];
  /** Guest addresses a port may listen on; unset = any. */
  addresses?: string[];
}

export class MemConfigfs implements GuestFs {
  readonly nodes = new Map<string, Node>();
  readonly root: string;
  readonly devices: Set<string>;
  readonly addresses: Set<string> | undefined;
  /** Every successful mutating call, in order ("mkdir /x", "write /x = v", ...). */
  readonly log: string[] = [];

  constructor(opts: MemConfigfsOptions = {}) {
    this.root = opts.root ?? NVMET_ROOT;
    this.devices = new Set(opts.devices ?? ['/dev/nullb0']);
    this.addresses = opts.addresses ? new Set(opts.addresses) : undefined;
    this.nodes.set('/', { kind: 'dir', user: false });
    this.seedDir(this.root);
    for (const d of ['hosts', 'subsystems', 'ports']) this.seedDir(`${this.root}/${d}`);
  }

  // ---- seeding (no rules) ----
  seedDir(path: string): void {
    if (this.nodes.has(path)) return;
    this.seedDir(dirname(path));
    this.nodes.set(path, { kind: 'dir', user: false });
  }
  seedFile(path: string, value: string, readOnly = false): void {
    this.seedDir(dirname(path));
    this.nodes.set(path, { kind: 'file', value, readOnly });
  }
  remove(path: string): void {
    for (const k of [...this.nodes.keys()]) if (k === path || k.startsWith(path + '/')) this.nodes.delete(k);
  }
  private rel(path: string): string[] | undefined {
    if (!path.startsWith(this.root + '/')) return undefined;
    return path.slice(this.root.length + 1).split('/');
  }
  private children(path: string): string[] {
    const pre = path === '/' ? '/' : path + '/';
    const out: string[] = [];
    for (const k of this.nodes.keys()) if (k.startsWith(pre) && k !== path && !k.slice(pre.length).includes('/')) out.push(k.slice(pre.length));
    return out;
  }
  private file(path: string): string | undefined {
    const n = this.nodes.get(path);
    return n?.kind === 'file' ? n.value : undefined;
  }
  private put(path: string, value: string) {
    this.nodes.set(path, { kind: 'file', value });
  }

  // ---- GuestFs ----
  async readFile(path: string): Promise<string> {
    const n = this.nodes.get(path);
    if (!n) throw fsError('ENOENT', 'open', path);
    if (n.kind === 'dir') throw fsError('EISDIR', 'read', path);
    if (n.kind === 'link') {
      return this.readFile(n.target);
    }
    return n.value + (n.value.endsWith('\n') ? '' : '\n');
  }

  async readdir(path: string): Promise<string[]> {
    const n = this.nodes.get(path);
    if (!n) throw fsError('ENOENT', 'scandir', path);
    if (n.kind !== 'dir') throw fsError('ENOTDIR', 'scandir', path);
    return this.children(path).sort();
  }

  async exists(path: string): Promise<boolean> {
    return this.nodes.has(path);
  }

  async mkdir(path: string): Promise<void> {
    const parent = this.nodes.get(dirname(path));
    if (!parent || parent.kind !== 'dir') throw fsError('ENOENT', 'mkdir', path);
    if (this.nodes.has(path)) throw fsError('EEXIST', 'mkdir', path);
    const r = this.rel(path);
    if (!r) {
      this.nodes.set(path, { kind: 'dir', user: true });
      this.log.push(`mkdir ${path}`);
      return;
    }
    const [top, name, sub, leaf, extra] = r;
    const mk = () => this.nodes.set(path, { kind: 'dir', user: true });
    if (r.length === 2 && top === 'hosts') {
      mk();
    } else if (r.length === 2 && top === 'subsystems') {
      mk();
      this.put(`${path}/attr_allow_any_host`, '0');
      this.put(`${path}/attr_serial`, randomUUID().replace(/-/g, '').slice(0, 16));
      this.put(`${path}/attr_model`, 'Linux');
      this.put(`${path}/attr_version`, '1.3');
      this.put(`${path}/attr_cntlid_min`, '1');
      this.put(`${path}/attr_cntlid_max`, '65519');
      this.put(`${path}/attr_pi_enable`, '0');
      this.nodes.set(`${path}/allowed_hosts`, { kind: 'dir', user: false });
      this.nodes.set(`${path}/namespaces`, { kind: 'dir', user: false });
    } else if (r.length === 4 && top === 'subsystems' && sub === 'namespaces') {
      if (!/^\d+$/.test(leaf!) || Number(leaf) === 0) throw fsError('EINVAL', 'mkdir', path);
      mk();
      this.put(`${path}/device_path`, '');
      this.put(`${path}/device_uuid`, '00000000-0000-0000-0000-000000000000');
      this.put(`${path}/device_nguid`, '00000000-0000-0000-0000-000000000000');
      this.put(`${path}/enable`, '0');
      this.put(`${path}/ana_grpid`, '1');
      this.put(`${path}/buffered_io`, '0');
    } else if (r.length === 2 && top === 'ports') {
      if (!/^\d+$/.test(name!)) throw fsError('EINVAL', 'mkdir', path);
      mk();
      for (const a of ['addr_trtype', 'addr_adrfam', 'addr_traddr', 'addr_trsvcid']) this.put(`${path}/${a}`, '');
      this.put(`${path}/addr_treq`, 'not specified');
      this.put(`${path}/param_inline_data_size`, '-1');
      this.put(`${path}/param_pi_enable`, '0');
      for (const d of ['subsystems', 'referrals', 'ana_groups']) this.nodes.set(`${path}/${d}`, { kind: 'dir', user: false });
    } else if (r.length === 4 && top === 'ports' && sub === 'referrals' && extra === undefined) {
      mk();
    } else {
      throw fsError('EPERM', 'mkdir', path);
    }
    this.log.push(`mkdir ${path}`);
  }

  private isEmptyGroup(path: string): boolean {
    for (const c of this.children(path)) {
      const n = this.nodes.get(`${path}/${c}`)!;
      if (n.kind === 'link') return false;
      if (n.kind === 'dir') {
        if (n.user) return false;
        if (!this.isEmptyGroup(`${path}/${c}`)) return false;
      }
    }
    return true;
  }

  async rmdir(path: string): Promise<void> {
    const n = this.nodes.get(path);
    if (!n) throw fsError('ENOENT', 'rmdir', path);
    if (n.kind !== 'dir') throw fsError('ENOTDIR', 'rmdir', path);
    if (!n.user) throw fsError('EPERM', 'rmdir', path);
    for (const [, m] of this.nodes) if (m.kind === 'link' && m.target === path) throw fsError('EBUSY', 'rmdir', path);
    if (!this.isEmptyGroup(path)) throw fsError('ENOTEMPTY', 'rmdir', path);
    this.remove(path);
    this.log.push(`rmdir ${path}`);
  }

  async symlink(target: string, path: string): Promise<void> {
    const parentPath = dirname(path);
    const parent = this.nodes.get(parentPath);
    if (!parent || parent.kind !== 'dir') throw fsError('ENOENT', 'symlink', path);
    if (this.nodes.has(path)) throw fsError('EEXIST', 'symlink', path);
    const tnode = this.nodes.get(target);
    if (!tnode || tnode.kind !== 'dir') throw fsError('ENOENT', 'symlink', path);
    const r = this.rel(path);
    const t = this.rel(target);
    if (r && r.length === 4 && r[0] === 'subsystems' && r[2] === 'allowed_hosts') {
      if (!t || t.length !== 2 || t[0] !== 'hosts') throw fsError('EINVAL', 'symlink', path);
      if (this.file(`${this.root}/subsystems/${r[1]}/attr_allow_any_host`) === '1') throw fsError('EINVAL', 'symlink', path);
      for (const c of this.children(parentPath)) {
        const l = this.nodes.get(`${parentPath}/${c}`);
        if (l?.kind === 'link' && l.target === target) throw fsError('EEXIST', 'symlink', path);
      }
    } else if (r && r.length === 4 && r[0] === 'ports' && r[2] === 'subsystems') {
      if (!t || t.length !== 2 || t[0] !== 'subsystems') throw fsError('EINVAL', 'symlink', path);
      for (const c of this.children(parentPath)) {
        const l = this.nodes.get(`${parentPath}/${c}`);
        if (l?.kind === 'link' && l.target === target) throw fsError('EEXIST', 'symlink', path);
      }
      if (this.children(parentPath).length === 0) this.enablePort(r[1]!, path);
    } else if (r) {
      throw fsError('EPERM', 'symlink', path);
    }
    this.nodes.set(path, { kind: 'link', target });
    this.log.push(`symlink ${path} -> ${target}`);
  }

  private portAddr(id: string) {
    const d = `${this.root}/ports/${id}`;
    return {
      trtype: this.file(`${d}/addr_trtype`) ?? '',
      adrfam: this.file(`${d}/addr_adrfam`) ?? '',
      traddr: this.file(`${d}/addr_traddr`) ?? '',
      trsvcid: this.file(`${d}/addr_trsvcid`) || '4420',
    };
  }
  private portEnabled(id: string): boolean {
    return this.children(`${this.root}/ports/${id}/subsystems`).length > 0;
  }
  private enablePort(id: string, path: string) {
    const a = this.portAddr(id);
    if (!a.trtype) throw fsError('EINVAL', 'symlink', path);
    if (a.trtype === 'rdma' || a.trtype === 'tcp') {
      if (!a.traddr || !a.adrfam) throw fsError('EINVAL', 'symlink', path);
      if (this.addresses && !this.addresses.has(a.traddr)) throw fsError('EADDRNOTAVAIL', 'symlink', path);
      for (const other of this.children(`${this.root}/ports`)) {
        if (other === id || !this.portEnabled(other)) continue;
        const b = this.portAddr(other);
        if (b.trtype === a.trtype && b.traddr === a.traddr && b.trsvcid === a.trsvcid) throw fsError('EADDRINUSE', 'symlink', path);
      }
    }
  }

  async unlink(path: string): Promise<void> {
    const n = this.nodes.get(path);
    if (!n) throw fsError('ENOENT', 'unlink', path);
    if (n.kind === 'dir') throw fsError('EISDIR', 'unlink', path);
    if (n.kind === 'file' && this.rel(path)) throw fsError('EPERM', 'unlink', path);
    this.nodes.delete(path);
    this.log.push(`unlink ${path}`);
  }

  async writeFile(path: string, data: string): Promise<void> {
    const n = this.nodes.get(path);
    if (!n) throw fsError('ENOENT', 'open', path);
    if (n.kind === 'dir') throw fsError('EISDIR', 'write', path);
    if (n.kind === 'link') return this.writeFile(n.target, data);
    if (n.readOnly) throw fsError('EACCES', 'open', path);
    const v = data.replace(/\n$/, '');
    const r = this.rel(path);
    if (r) this.checkWrite(r, path, v);
    n.value = v;
    this.log.push(`write ${path} = ${v}`);
  }

  private checkWrite(r: string[], path: string, v: string) {
    const attr = r[r.length - 1]!;
    const bad = (code: string) => fsError(code, 'write', path);
    if (r[0] === 'ports' && r.length === 3) {
      if (attr.startsWith('addr_') && this.portEnabled(r[1]!)) throw bad('EACCES');
      if (attr === 'addr_trtype' && !(TRTYPES as readonly string[]).includes(v)) throw bad('EINVAL');
      if (attr === 'addr_adrfam' && !(ADRFAMS as readonly string[]).includes(v)) throw bad('EINVAL');
      if (attr === 'addr_treq' && !(TREQS as readonly string[]).includes(v)) throw bad('EINVAL');
      if (attr.startsWith('param_') && this.portEnabled(r[1]!)) throw bad('EACCES');
    }
    if (r[0] === 'subsystems' && r.length === 3 && attr === 'attr_allow_any_host') {
      if (v !== '0' && v !== '1') throw bad('EINVAL');
      if (v === '1' && this.children(`${this.root}/subsystems/${r[1]}/allowed_hosts`).length) throw bad('EINVAL');
    }
    if (r[0] === 'subsystems' && r[2] === 'namespaces' && r.length === 5) {
      const dir = dirname(path);
      const enabled = this.file(`${dir}/enable`) === '1';
      if (attr === 'device_path') {
        if (enabled) throw bad('EBUSY');
        if (!v) throw bad('EINVAL');
      }
      if (attr === 'device_uuid' || attr === 'device_nguid') {
        if (enabled) throw bad('EBUSY');
        if (!UUID.test(v)) throw bad('EINVAL');
      }
      if (attr === 'enable') {
        if (v !== '0' && v !== '1') throw bad('EINVAL');
        if (v === '1' && !enabled) {
          const dp = this.file(`${dir}/device_path`) ?? '';
          if (!dp) throw bad('EINVAL');
          if (!this.devices.has(dp)) throw bad('ENOENT');
        }
      }
    }
  }
}
