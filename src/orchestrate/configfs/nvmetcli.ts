// Import and export of nvmetcli's JSON (`nvmetcli save` / `nvmetcli restore`).
import { z } from 'zod';
import { UsageError } from '../../util/errors.js';
import { describeIssues } from '../../util/zod-issues.js';
import { parseTargetConfig, type NvmetPort, type TargetConfig } from './model.js';

const str = z.union([z.string(), z.number()]).transform(String);
const flag = z.union([z.number(), z.string(), z.boolean()]).transform((v) => v === true || v === 1 || v === '1');

export const NvmetcliAddrSchema = z
  .object({
    adrfam: z.string().default(''),
    traddr: z.string().default(''),
    treq: z.string().default('not specified'),
    trsvcid: z.string().default(''),
    trtype: z.string(),
  })
  .passthrough();

export const NvmetcliJsonSchema = z.object({
  hosts: z.array(z.object({ nqn: z.string() })).default([]),
  ports: z
    .array(
      z.object({
        addr: NvmetcliAddrSchema,
        portid: z.number().int(),
        referrals: z.array(z.unknown()).default([]),
        subsystems: z.array(z.string()).default([]),
        param: z.record(z.string(), str).optional(),
        ana_groups: z.array(z.unknown()).optional(),
      }),
    )
    .default([]),
  subsystems: z
    .array(
      z.object({
        nqn: z.string(),
        attr: z.record(z.string(), str).default({}),
        allowed_hosts: z.array(z.string()).default([]),
        namespaces: z
          .array(
            z.object({
              nsid: z.number().int(),
              enable: flag.default(true),
              device: z.object({ path: z.string(), nguid: z.string().optional(), uuid: z.string().optional() }).passthrough(),
              ana_grpid: z.number().int().optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
});

export type NvmetcliJson = z.output<typeof NvmetcliJsonSchema>;

const ZERO_UUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

/** nvmetcli JSON (an object or its text) -> a validated TargetConfig. */
export function importNvmetcli(input: unknown): TargetConfig {
  let data = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (e) {
      throw new UsageError(`not JSON: ${(e as Error).message}`, 'nvmetcli config');
    }
  }
  const r = NvmetcliJsonSchema.safeParse(data);
  if (!r.success)
    throw new UsageError(
      describeIssues(r.error),
      'nvmetcli config',
    );
  const j = r.data;
  for (const p of j.ports)
    if (p.referrals.length) throw new UsageError(`port ${p.portid}: referrals are not supported by reset-bench`, 'nvmetcli config');
  return parseTargetConfig({
    hosts: j.hosts.map((h) => h.nqn),
    subsystems: j.subsystems.map((s) => {
      const { allow_any_host, ...attrs } = s.attr;
      return {
        nqn: s.nqn,
        allowAnyHost: allow_any_host === '1',
        allowedHosts: s.allowed_hosts,
        attrs,
        namespaces: s.namespaces.map((n) => ({
          nsid: n.nsid,
          path: n.device.path,
          enable: n.enable,
          ...(n.device.uuid && !ZERO_UUID.test(n.device.uuid) ? { uuid: n.device.uuid } : {}),
          ...(n.device.nguid && !ZERO_UUID.test(n.device.nguid) ? { nguid: n.device.nguid } : {}),
          attrs: n.ana_grpid !== undefined ? { ana_grpid: String(n.ana_grpid) } : {},
        })),
      };
    }),
    ports: j.ports.map((p) => ({
      portid: p.portid,
      trtype: p.addr.trtype,
      ...(p.addr.adrfam ? { adrfam: p.addr.adrfam } : {}),
      ...(p.addr.traddr ? { traddr: p.addr.traddr } : {}),
      ...(p.addr.trsvcid ? { trsvcid: p.addr.trsvcid } : {}),
      ...(p.addr.treq ? { treq: p.addr.treq } : {}),
      params: p.param ?? {},
      subsystems: p.subsystems,
    })),
  });
}

/** A TargetConfig (e.g. from readTarget) -> nvmetcli's JSON, sorted like `nvmetcli save`. */
export function exportNvmetcli(cfg: TargetConfig): NvmetcliJson {
  const byName = <T>(k: (x: T) => string) => (a: T, b: T) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0);
  return {
    hosts: [...cfg.hosts].sort().map((nqn) => ({ nqn })),
    ports: [...cfg.ports]
      .sort((a, b) => a.portid - b.portid)
      .map((p: NvmetPort) => ({
        addr: {
          adrfam: p.adrfam ?? '',
          traddr: p.traddr ?? '',
          treq: p.treq ?? 'not specified',
          trsvcid: p.trsvcid ?? '',
          trtype: p.trtype,
        },
        ...(Object.keys(p.params).length ? { param: { ...p.params } } : {}),
        portid: p.portid,
        referrals: [],
        subsystems: [...p.subsystems].sort(),
      })),
    subsystems: [...cfg.subsystems].sort(byName((s) => s.nqn)).map((s) => ({
      allowed_hosts: [...s.allowedHosts].sort(),
      attr: { allow_any_host: s.allowAnyHost ? '1' : '0', ...s.attrs },
      namespaces: [...s.namespaces]
        .sort((a, b) => a.nsid - b.nsid)
        .map((n) => ({
          ...(n.attrs.ana_grpid !== undefined ? { ana_grpid: Number(n.attrs.ana_grpid) } : {}),
          device: {
            nguid: n.nguid ?? '00000000-0000-0000-0000-000000000000',
            path: n.path,
            uuid: n.uuid ?? '00000000-0000-0000-0000-000000000000',
          },
          enable: n.enable,
          nsid: n.nsid,
        })),
      nqn: s.nqn,
    })),
  };
}

/** Text as `nvmetcli save` writes it (2-space JSON). */
export function formatNvmetcli(cfg: TargetConfig): string {
  const j = exportNvmetcli(cfg);
  // nvmetcli writes enable as 0/1
  const out = { ...j, subsystems: j.subsystems.map((s) => ({ ...s, namespaces: s.namespaces.map((n) => ({ ...n, enable: n.enable ? 1 : 0 })) })) };
  return JSON.stringify(out, null, 2) + '\n';
}
