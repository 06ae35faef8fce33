// The nvmet target configuration (what applyTarget() builds), validated with zod.
// Close to nvmetcli's JSON, with camelCase names.
import { z } from 'zod';
import { UsageError } from '../../util/errors.js';
import { describeIssues } from '../../util/zod-issues.js';

/** NQNs and host names become configfs directory names. */
const nqn = z
  .string()
  .min(1)
  .max(223)
  .refine((s) => !s.includes('/') && s !== '.' && s !== '..' && !/[\s\0]/.test(s), {
    message: 'an NQN cannot contain "/", whitespace or be "." / ".."',
  });

const attrValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v)));
const attrKey = z.string().regex(/^[a-z0-9_]+$/, 'attribute names are lower-case words like "serial" or "inline_data_size"');

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'not a UUID');

export const NamespaceSchema = z.object({
  nsid: z.number().int().min(1).max(0xfffffffe),
  /** A block device (/dev/nullb0, /dev/vdb) or a regular file. */
  path: z.string().startsWith('/', 'device path must be absolute'),
  /** What backs the namespace; informational, checked against the path when set. */
  backing: z.enum(['null_blk', 'file', 'block']).optional(),
  enable: z.boolean().default(true),
  uuid: uuid.optional(),
  nguid: uuid.optional(),
  /** Other namespace attributes (e.g. buffered_io, ana_grpid), written before enable. */
  attrs: z.record(attrKey, attrValue).default({}),
});

export const SubsystemSchema = z.object({
  nqn,
  allowAnyHost: z.boolean().default(false),
  allowedHosts: z.array(nqn).default([]),
  /** attr_<key> files: serial, model, version, cntlid_min, ... */
  attrs: z.record(attrKey, attrValue).default({}),
  namespaces: z.array(NamespaceSchema).default([]),
});

export const TRTYPES = ['rdma', 'tcp', 'loop', 'fc'] as const;
export const ADRFAMS = ['ipv4', 'ipv6', 'ib', 'fc', 'loop', 'pcie'] as const;
export const TREQS = ['not specified', 'required', 'not required'] as const;

export const PortSchema = z.object({
  portid: z.number().int().min(0).max(0xffff),
  trtype: z.enum(TRTYPES),
  adrfam: z.enum(ADRFAMS).optional(),
  traddr: z.string().optional(),
  trsvcid: z.string().optional(),
  treq: z.enum(TREQS).optional(),
  /** param_<key> files: inline_data_size, pi_enable, ... */
  params: z.record(attrKey, attrValue).default({}),
  subsystems: z.array(nqn).default([]),
});

export const TargetConfigSchema = z.object({
  /** Host NQNs to create under nvmet/hosts (allowed hosts are added automatically). */
  hosts: z.array(nqn).default([]),
  subsystems: z.array(SubsystemSchema).default([]),
  ports: z.array(PortSchema).default([]),
});

export type NvmetNamespace = z.output<typeof NamespaceSchema>;
export type NvmetSubsystem = z.output<typeof SubsystemSchema>;
export type NvmetPort = z.output<typeof PortSchema>;
export type TargetConfig = z.output<typeof TargetConfigSchema>;
export type TargetConfigInput = z.input<typeof TargetConfigSchema>;

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/**
 * Parses and checks a target configuration: schema, then the cross-references and
 * conflicts configfs would reject later with a less helpful errno. UsageError names
 * the offending field.
 */
export function parseTargetConfig(input: unknown): TargetConfig {
  const r = TargetConfigSchema.safeParse(input);
  if (!r.success) throw new UsageError(describeIssues(r.error, 'target'));
  const cfg = r.data;
  const problems: string[] = [];
  const nqns = new Set<string>();
  for (const [i, s] of cfg.subsystems.entries()) {
    if (nqns.has(s.nqn)) problems.push(`subsystems[${i}]: duplicate subsystem ${s.nqn}`);
    nqns.add(s.nqn);
    if (s.allowAnyHost && s.allowedHosts.length)
      problems.push(`subsystems[${i}] (${s.nqn}): allowAnyHost and allowedHosts exclude each other`);
    const nsids = new Set<number>();
    for (const ns of s.namespaces) {
      if (nsids.has(ns.nsid)) problems.push(`subsystems[${i}] (${s.nqn}): duplicate nsid ${ns.nsid}`);
      nsids.add(ns.nsid);
      if (ns.backing === 'null_blk' && !/^\/dev\/nullb\d+$/.test(ns.path))
        problems.push(`subsystems[${i}] (${s.nqn}) nsid ${ns.nsid}: a null_blk namespace's path is /dev/nullbN, not ${ns.path}`);
    }
  }
  const ids = new Set<number>();
  const addrs = new Map<string, number>();
  for (const [i, p] of cfg.ports.entries()) {
    if (ids.has(p.portid)) problems.push(`ports[${i}]: duplicate port id ${p.portid}`);
    ids.add(p.portid);
    if (p.trtype === 'rdma' || p.trtype === 'tcp') {
      if (!p.traddr) problems.push(`ports[${i}] (port ${p.portid}): ${p.trtype} needs traddr`);
      if (!p.adrfam) problems.push(`ports[${i}] (port ${p.portid}): ${p.trtype} needs adrfam (ipv4 or ipv6)`);
      if (p.adrfam === 'ipv4' && p.traddr && !IPV4.test(p.traddr))
        problems.push(`ports[${i}] (port ${p.portid}): traddr "${p.traddr}" is not an IPv4 address`);
      if (p.trsvcid !== undefined && !/^\d{1,5}$/.test(p.trsvcid))
        problems.push(`ports[${i}] (port ${p.portid}): trsvcid "${p.trsvcid}" is not a port number`);
      const key = `${p.trtype} ${p.traddr}:${p.trsvcid ?? '4420'}`;
      const other = addrs.get(key);
      if (other !== undefined) problems.push(`ports[${i}]: duplicate port: port ${other} already listens on ${key}`);
      addrs.set(key, p.portid);
    }
    for (const s of p.subsystems)
      if (!nqns.has(s)) problems.push(`ports[${i}] (port ${p.portid}): links unknown subsystem ${s}`);
    if (new Set(p.subsystems).size !== p.subsystems.length) problems.push(`ports[${i}] (port ${p.portid}): a subsystem is listed twice`);
  }
  if (problems.length) throw new UsageError(problems.join('; '), 'target');
  // Every allowed host must exist under nvmet/hosts.
  const hosts = new Set(cfg.hosts);
  for (const s of cfg.subsystems) for (const h of s.allowedHosts) hosts.add(h);
  cfg.hosts = [...hosts];
  return cfg;
}
