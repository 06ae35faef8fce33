// The nvmet target through configfs: apply a checked TargetConfig idempotently, in the
// order the kernel needs. Every access goes through GuestFs. No zod here: the guest's
// agent runs this module (op nvmet.apply, src/guest/ops-nvmet.ts) on a configuration the
// host checked, and zod's import took seconds under TCG. (Nothing tears a target down: a
// run's VMs are thrown away; the tests read it back with test/helpers/read-target.ts.)
import type { GuestFs } from '../guest-fs.js';
import { HarnessError } from '../../util/errors.js';
import { errCode, toConfigfsError } from './errors.js';
import type { NvmetNamespace, NvmetPort, NvmetSubsystem, TargetConfig } from './model.js';

export const NVMET_ROOT = '/sys/kernel/config/nvmet';

export interface NvmetOptions {
  /** Default /sys/kernel/config/nvmet. */
  root?: string;
}

/** What apply() changed; empty when the target already matched. */
export interface ApplyResult {
  changes: string[];
}

class Nvmet {
  readonly root: string;
  readonly changes: string[] = [];
  constructor(
    readonly fs: GuestFs,
    readonly opts: NvmetOptions,
  ) {
    this.root = opts.root ?? NVMET_ROOT;
  }
  p(...parts: (string | number)[]): string {
    return [this.root, ...parts.map(String)].join('/');
  }
  private note(op: string, path: string, value?: string) {
    this.changes.push(value === undefined ? `${op} ${path}` : `${op} ${path} = ${value}`);
  }
  async checkRoot(): Promise<void> {
    if (!(await this.fs.exists(this.root)))
      throw new HarnessError(`${this.root} does not exist: load nvmet (modprobe nvmet) and mount configfs at /sys/kernel/config`);
  }
  async read(path: string): Promise<string> {
    try {
      return (await this.fs.readFile(path)).replace(/\n$/, '');
    } catch (e) {
      throw toConfigfsError(e, { op: 'read', path });
    }
  }
  async readOpt(path: string): Promise<string | undefined> {
    try {
      return (await this.fs.readFile(path)).replace(/\n$/, '');
    } catch {
      return undefined;
    }
  }
  async write(path: string, value: string): Promise<void> {
    try {
      await this.fs.writeFile(path, value);
    } catch (e) {
      throw toConfigfsError(e, { op: 'write', path, value });
    }
    this.note('write', path, value);
  }
  /** Writes only when the current value differs (idempotent apply). */
  async set(path: string, value: string): Promise<boolean> {
    const cur = await this.readOpt(path);
    if (cur !== undefined && normalize(cur) === normalize(value)) return false;
    await this.write(path, value);
    return true;
  }
  async mkdirp(path: string): Promise<boolean> {
    if (await this.fs.exists(path)) return false;
    try {
      await this.fs.mkdir(path);
    } catch (e) {
      if (errCode(e) === 'EEXIST') return false;
      throw toConfigfsError(e, { op: 'mkdir', path });
    }
    this.note('mkdir', path);
    return true;
  }
  /** rmdir or unlink; one already gone is fine. */
  async remove(op: 'rmdir' | 'unlink', path: string): Promise<void> {
    try {
      await this.fs[op](path);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      throw toConfigfsError(e, { op, path });
    }
    this.note(op, path);
  }
  async link(target: string, path: string): Promise<boolean> {
    if (await this.fs.exists(path)) return false;
    try {
      await this.fs.symlink(target, path);
    } catch (e) {
      throw toConfigfsError(e, { op: 'symlink', path, value: target });
    }
    this.note('symlink', path, target);
    return true;
  }
  async ls(path: string): Promise<string[]> {
    try {
      return (await this.fs.readdir(path)).sort();
    } catch (e) {
      if (errCode(e) === 'ENOENT') return [];
      throw toConfigfsError(e, { op: 'readdir', path });
    }
  }
}

/** configfs shows uuids lower-case, treq "not specified", booleans 0/1. */
function normalize(v: string): string {
  return v.trim().toLowerCase();
}

// ---- apply ----------------------------------------------------------------

/**
 * Makes the target match `cfg` (already checked by parseTargetConfig): creates what is
 * missing, rewrites what differs, and, inside the subsystems and ports it names, removes
 * namespaces, allowed hosts and links it does not list. Objects the config does not name
 * are left alone. Running it twice changes nothing the second time.
 */
export async function applyConfig(fs: GuestFs, cfg: TargetConfig, opts: NvmetOptions = {}): Promise<ApplyResult> {
  const t = new Nvmet(fs, opts);
  await t.checkRoot();
  for (const h of cfg.hosts) await t.mkdirp(t.p('hosts', h));
  for (const s of cfg.subsystems) await applySubsystem(t, s);
  for (const p of cfg.ports) await applyPort(t, p);
  return { changes: t.changes };
}

async function applySubsystem(t: Nvmet, s: NvmetSubsystem): Promise<void> {
  const dir = t.p('subsystems', s.nqn);
  await t.mkdirp(dir);
  for (const [k, v] of Object.entries(s.attrs)) {
    if (k === 'allow_any_host') continue;
    await t.set(`${dir}/attr_${k}`, v);
  }
  // allow_any_host and allowed_hosts exclude each other: order the changes.
  const current = await t.ls(`${dir}/allowed_hosts`);
  if (s.allowAnyHost) {
    for (const h of current) await t.remove('unlink', `${dir}/allowed_hosts/${h}`);
    await t.set(`${dir}/attr_allow_any_host`, '1');
  } else {
    await t.set(`${dir}/attr_allow_any_host`, '0');
    for (const h of current) if (!s.allowedHosts.includes(h)) await t.remove('unlink', `${dir}/allowed_hosts/${h}`);
    for (const h of s.allowedHosts) await t.link(t.p('hosts', h), `${dir}/allowed_hosts/${h}`);
  }
  const want = new Set(s.namespaces.map((n) => String(n.nsid)));
  for (const nsid of await t.ls(`${dir}/namespaces`)) {
    if (!want.has(nsid)) await removeNamespace(t, `${dir}/namespaces/${nsid}`);
  }
  for (const ns of s.namespaces) await applyNamespace(t, `${dir}/namespaces/${ns.nsid}`, ns);
}

async function applyNamespace(t: Nvmet, dir: string, ns: NvmetNamespace): Promise<void> {
  await t.mkdirp(dir);
  const enabled = (await t.readOpt(`${dir}/enable`)) === '1';
  const path = await t.readOpt(`${dir}/device_path`);
  const wantIds: [string, string][] = [];
  if (ns.uuid) wantIds.push(['device_uuid', ns.uuid]);
  if (ns.nguid) wantIds.push(['device_nguid', ns.nguid]);
  for (const [k, v] of Object.entries(ns.attrs)) wantIds.push([k, v]);
  const differs = async () => {
    if (path !== ns.path) return true;
    for (const [k, v] of wantIds) {
      const cur = await t.readOpt(`${dir}/${k}`);
      if (cur === undefined || normalize(cur) !== normalize(v)) return true;
    }
    return false;
  };
  // device_path, uuid and nguid can only change while the namespace is disabled.
  if (enabled && !(await differs())) {
    if (!ns.enable) await t.write(`${dir}/enable`, '0');
    return;
  }
  if (enabled) await t.write(`${dir}/enable`, '0');
  await t.set(`${dir}/device_path`, ns.path);
  for (const [k, v] of wantIds) await t.set(`${dir}/${k}`, v);
  if (ns.enable) await t.write(`${dir}/enable`, '1');
}

async function applyPort(t: Nvmet, p: NvmetPort): Promise<void> {
  const dir = t.p('ports', p.portid);
  await t.mkdirp(dir);
  const addr: [string, string][] = [['addr_trtype', p.trtype]];
  if (p.adrfam) addr.push(['addr_adrfam', p.adrfam]);
  if (p.traddr !== undefined) addr.push(['addr_traddr', p.traddr]);
  if (p.trsvcid !== undefined) addr.push(['addr_trsvcid', p.trsvcid]);
  if (p.treq) addr.push(['addr_treq', p.treq]);
  for (const [k, v] of Object.entries(p.params)) addr.push([`param_${k}`, v]);
  const stale: string[] = [];
  for (const [k, v] of addr) {
    const cur = await t.readOpt(`${dir}/${k}`);
    if (cur === undefined || normalize(cur) !== normalize(v)) stale.push(k);
  }
  const linked = await t.ls(`${dir}/subsystems`);
  // The address of an enabled port (one with links) is read-only: unlink, write, relink.
  if (stale.length && linked.length) for (const s of linked) await t.remove('unlink', `${dir}/subsystems/${s}`);
  for (const [k, v] of addr) if (stale.includes(k)) await t.write(`${dir}/${k}`, v);
  const nowLinked = stale.length ? [] : linked;
  for (const s of nowLinked) if (!p.subsystems.includes(s)) await t.remove('unlink', `${dir}/subsystems/${s}`);
  for (const s of p.subsystems) await t.link(t.p('subsystems', s), `${dir}/subsystems/${s}`);
}

async function removeNamespace(t: Nvmet, dir: string): Promise<void> {
  if ((await t.readOpt(`${dir}/enable`)) === '1') await t.write(`${dir}/enable`, '0');
  await t.remove('rmdir', dir);
}
