// Kernel errors from configfs/sysfs turned into messages that name the attribute
// and the likely cause.
import { HarnessError } from '../../util/errors.js';

export type FsOp = 'write' | 'read' | 'mkdir' | 'rmdir' | 'symlink' | 'unlink' | 'readdir' | 'connect';

export interface FsErrorContext {
  op: FsOp;
  path: string;
  value?: string;
}

/** A configfs/sysfs operation the kernel refused. */
export class ConfigfsError extends HarnessError {
  constructor(
    readonly op: FsOp,
    readonly path: string,
    readonly code: string,
    readonly hint: string | undefined,
    readonly value?: string,
    cause?: unknown,
  ) {
    super(
      `${describeOp(op, path, value)} failed: ${code}` + (hint ? `: ${hint}` : ''),
      { cause },
    );
    this.name = 'ConfigfsError';
  }
}

function describeOp(op: FsOp, path: string, value?: string): string {
  switch (op) {
    case 'write':
      return `writing "${value ?? ''}" to ${path}`;
    case 'symlink':
      return `linking ${path}${value ? ` -> ${value}` : ''}`;
    case 'connect':
      return `connecting through ${path} with "${value ?? ''}"`;
    default:
      return `${op} ${path}`;
  }
}

export function errCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'EIO';
}

/** The attribute (last path component) and the kind of object it belongs to. */
function classify(path: string): { attr: string; inPort: boolean; inNs: boolean; inSubsys: boolean; linkDir?: string } {
  const parts = path.split('/').filter(Boolean);
  const attr = parts[parts.length - 1] ?? path;
  const parent = parts[parts.length - 2];
  const i = parts.indexOf('nvmet');
  const top = i >= 0 ? parts[i + 1] : undefined;
  return {
    attr,
    inPort: top === 'ports',
    inNs: parts.includes('namespaces'),
    inSubsys: top === 'subsystems',
    ...(parent === 'subsystems' && top === 'ports' ? { linkDir: 'port-subsystems' } : {}),
    ...(parent === 'allowed_hosts' ? { linkDir: 'allowed_hosts' } : {}),
  };
}

/** The likely cause of a kernel error on an nvmet configfs / nvme sysfs path. */
export function explain(ctx: FsErrorContext, code: string): string | undefined {
  const c = classify(ctx.path);
  const v = ctx.value ?? '';
  if (code === 'ENOENT' && ctx.path.includes('/nvmet/') && !(ctx.op === 'write' && c.inNs && c.attr === 'enable'))
    return ctx.op === 'mkdir' || ctx.op === 'write' || ctx.op === 'symlink'
      ? 'the parent object or link target does not exist (is nvmet loaded and configfs mounted at /sys/kernel/config?)'
      : 'no such object';
  if (ctx.op === 'symlink' && c.linkDir === 'port-subsystems') {
    switch (code) {
      case 'EEXIST':
        return 'the subsystem is already linked to this port';
      case 'EADDRINUSE':
        return 'another port already listens on this trtype/traddr/trsvcid (duplicate port)';
      case 'EADDRNOTAVAIL':
      case 'ENODEV':
        return 'enabling the port failed: traddr is not an address of this guest (for rdma: no RDMA device on the interface that holds it)';
      case 'EINVAL':
        return 'enabling the port failed: addr_trtype/addr_adrfam/addr_traddr incomplete or the transport module (nvmet-rdma / nvmet-tcp) cannot be loaded';
      case 'EPROTONOSUPPORT':
      case 'EAFNOSUPPORT':
        return 'the address family does not suit the transport';
      default:
        return 'enabling the port (the first subsystem link starts listening) failed';
    }
  }
  if (ctx.op === 'symlink' && c.linkDir === 'allowed_hosts') {
    if (code === 'EINVAL') return 'attr_allow_any_host is 1 on this subsystem: set it to 0 before listing hosts';
    if (code === 'EEXIST') return 'the host is already allowed';
  }
  if (ctx.op === 'rmdir') {
    if (code === 'ENOTEMPTY') return 'it still has namespaces, allowed hosts or port links (tear down in order)';
    if (code === 'EBUSY') return 'something still links to it (a port -> subsystem or allowed_hosts link)';
  }
  if (ctx.op === 'mkdir' && code === 'EEXIST') return 'it already exists';
  if (ctx.op === 'write') {
    if (c.inPort && c.attr.startsWith('addr_')) {
      if (code === 'EACCES') return 'the port is enabled (has linked subsystems): unlink them before changing its address';
      if (code === 'EINVAL') {
        if (c.attr === 'addr_trtype') return `"${v}" is not a transport (rdma, tcp, loop, fc)`;
        if (c.attr === 'addr_adrfam') return `"${v}" is not an address family (ipv4, ipv6, ib, fc, loop)`;
        if (c.attr === 'addr_treq') return `"${v}" is not a treq value (not specified, required, not required)`;
        return `"${v}" is not a valid ${c.attr}`;
      }
    }
    if (c.inNs) {
      if (c.attr === 'device_path' && code === 'EBUSY') return 'the namespace is enabled: write 0 to enable first';
      if (c.attr === 'device_path' && code === 'EINVAL') return 'the path is empty';
      if ((c.attr === 'device_uuid' || c.attr === 'device_nguid') && code === 'EBUSY') return 'the namespace is enabled: disable it first';
      if ((c.attr === 'device_uuid' || c.attr === 'device_nguid') && code === 'EINVAL') return `"${v}" is not a valid ${c.attr.slice(7)}`;
      if (c.attr === 'enable') {
        if (code === 'ENOENT') return 'device_path does not exist in the guest (null_blk not loaded? file missing?)';
        if (code === 'EINVAL') return 'device_path is not set or not a block device/file nvmet can use';
        if (code === 'EMFILE') return 'too many namespaces in this subsystem';
        if (code === 'EBUSY') return 'the device is in use';
        if (code === 'EEXIST') return 'the nsid is already in use';
        if (code === 'EACCES' || code === 'EPERM') return 'the device cannot be opened read-write';
        return 'opening device_path failed';
      }
    }
    if (c.inSubsys && c.attr === 'attr_allow_any_host' && code === 'EINVAL')
      return v.trim() === '1' ? 'allowed_hosts is not empty: unlink the hosts first' : `"${v}" is not 0 or 1`;
    if (c.attr === 'delete_controller' && code === 'ENOENT') return 'the controller is already gone';
    if (code === 'EINVAL') return `the kernel rejected "${v}" for ${c.attr}`;
    if (code === 'EACCES' || code === 'EPERM') return 'not permitted (read-only attribute or not root)';
  }
  return undefined;
}

/** Wraps an fs error (with errno `code`) as a ConfigfsError with an explanation. */
export function toConfigfsError(e: unknown, ctx: FsErrorContext): ConfigfsError {
  if (e instanceof ConfigfsError) return e;
  const code = errCode(e);
  return new ConfigfsError(ctx.op, ctx.path, code, explain(ctx, code), ctx.value, e);
}
