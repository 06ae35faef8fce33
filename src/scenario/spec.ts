// What a scenario is: built in (catalog.ts) or from a user's YAML/JSON file, validated
// with zod so that a bad field is named with its fix.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RESET_KINDS } from '../reset/types.js';
import { UsageError } from '../util/errors.js';
import { describeIssues } from '../util/zod-issues.js';

export const SIDES = ['host', 'target', 'both'] as const;

export const LoadSpec = z
  .object({
    rw: z.enum(['randwrite', 'randrw', 'write', 'randread', 'read']).default('randwrite'),
    bs: z.string().regex(/^\d+[kKmM]?$/, 'a size like 4k').default('4k'),
    iodepth: z.number().int().min(1).max(1024).default(8),
    size: z.string().regex(/^\d+[kKmMgG]?$/, 'a size like 64m').default('64m'),
    rate_iops: z.number().int().positive().optional(),
  })
  .strict();

export const ConnectSpec = z
  .object({
    reconnect_delay: z.number().int().min(1).default(1),
    ctrl_loss_tmo: z.number().int().min(-1).default(60),
    fast_io_fail_tmo: z.number().int().min(-1).optional(),
    keep_alive_tmo: z.number().int().min(0).optional(),
    nr_io_queues: z.number().int().min(1).optional(),
    queue_size: z.number().int().min(16).max(1024).optional(),
    /**
     * Connect from the host's lab address (`nvme connect -w`). rdma_cm then binds each
     * queue's cm_id to the RDMA device before its address is resolved, so a device
     * removal meets a cm_id still resolving (during: reconnect).
     */
    host_traddr: z.boolean().optional(),
  })
  .strict();

export const Expect = z
  .object({
    /** recovers: I/O must resume; deleted: the controller must be deleted cleanly. */
    controller: z.enum(['recovers', 'deleted']).default('recovers'),
    /** Whether I/O errors are part of the scenario (fast_io_fail_tmo). */
    io_errors: z.enum(['none', 'allowed']).default('none'),
  })
  .strict();

/**
 * Which links of the pair2 topology the host connects over (one controller each, one
 * multipath head) and which of them have their device reset; link i is eth<i>/rxe<i>.
 */
export const PathsSpec = z
  .object({
    connect: z.array(z.number().int().min(0).max(1)).min(1).max(2).default([0, 1]),
    reset: z.array(z.number().int().min(0).max(1)).min(1).max(2).default([0]),
    /** The transport on each link (index = link): an nvme-tcp path beside an RDMA one. */
    transports: z.array(z.enum(['rdma', 'tcp'])).length(2).default(['rdma', 'rdma']),
    /** With several reset links: the next link's device goes this long after the previous one's, ms. */
    stagger_ms: z.number().int().min(0).max(60_000).default(0),
  })
  .strict();
export type PathsSpec = z.output<typeof PathsSpec>;

/** How the device comes back, when not as it went: under another name, or its address late. */
export const RestoreSpec = z
  .object({
    /** The rxe device returns under this name (same netdev and address). */
    rxe_name: z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, 'an RDMA device name like rxe1').optional(),
    /** pci-rebind and hotplug: the address comes this long after the rxe device, ms. */
    address_delay_ms: z.number().int().min(0).max(60_000).default(0),
  })
  .strict();

/**
 * module-reload with sent skbs held: the reset netdev's queue holds every skb sent
 * just before `modprobe -r rdma_rxe` (a netem qdisc, as an idle or slow NIC would),
 * and the unload must return within unload_within_ms all the same.
 */
export const HoldTxSpec = z
  .object({
    /** The longest `modprobe -r rdma_rxe` may take with the skbs held, ms. */
    unload_within_ms: z.number().int().min(1000).max(110_000).default(30_000),
  })
  .strict();

/**
 * during: reconnect: the host's device goes while the controller's reconnect is still
 * resolving the target's address. The target answers no ARP and the host's neighbour
 * entries are flushed: the keep-alive times out, error recovery starts the reconnect,
 * and its address resolution waits out nvme-rdma's 3 s; the removal (`rdma link delete`
 * in its own process) must return within removal_within_ms.
 */
export const ReconnectSpec = z
  .object({
    /** The longest the host's `rdma link delete` may take; past it the run is a FAIL naming the blocked tasks, ms. */
    removal_within_ms: z.number().int().min(1000).max(120_000).default(30_000),
  })
  .strict();
export type ReconnectSpec = z.output<typeof ReconnectSpec>;

export const ADMIN_ACTIONS = [
  'delete-controller',
  'reset-controller',
  'unload-host-module',
  'remove-target-port',
  'recreate-target-port',
  'add-unrelated-rdma-devices',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** ms after the device went away; must fall inside down_ms. */
const afterMs = z.number().int().min(0).default(1500);

/** The actions that take no parameter but when. */
const PlainAdmin = z.strictObject(
  {
    action: z.enum(ADMIN_ACTIONS.filter((a) => a !== 'add-unrelated-rdma-devices') as [Exclude<AdminAction, 'add-unrelated-rdma-devices'>]),
    after_ms: afterMs,
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `${iss.keys.map((k) => `"${k}"`).join(', ')}: not for this action (count and interval_ms are add-unrelated-rdma-devices' only; the others take after_ms)` : undefined,
  },
);

/**
 * Unrelated RDMA devices appear on the host while its lab device is away (SR-IOV VFs,
 * another rxe or siw): a dummy netdev and an rxe device on it, `count` times,
 * `interval_ms` apart, starting after_ms into the outage.
 */
const AddDevicesAdmin = z
  .object({
    action: z.literal('add-unrelated-rdma-devices'),
    after_ms: afterMs,
    count: z.number().int().min(1).max(32).default(8),
    interval_ms: z.number().int().min(0).max(60_000).default(500),
  })
  .strict();

/** A deliberate administrator action while the device is away (the controller is recovering). */
export const AdminSpec = z.discriminatedUnion('action', [PlainAdmin, AddDevicesAdmin]);
export type AdminSpec = z.output<typeof AdminSpec>;

/** How long the action itself takes while the device is away, ms: the additions' span, else 0 (pure). */
export function adminSpanMs(admin: AdminSpec): number {
  return admin.action === 'add-unrelated-rdma-devices' ? (admin.count - 1) * admin.interval_ms : 0;
}

export const ScenarioSpec = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().default(''),
    topology: z.enum(['pair', 'loopback', 'pair2']).default('pair'),
    /** pair2 only: the paths connected and the paths reset. */
    paths: PathsSpec.optional(),
    side: z.enum(SIDES),
    reset: z.enum(RESET_KINDS),
    /** How long the device stays away, ms. */
    down_ms: z.number().int().min(0).max(600_000).default(4000),
    /** How many resets in a row. */
    resets: z.number().int().min(1).max(100).default(1),
    /**
     * I/O before the first reset, ms. The loader's queue is full within its first
     * completions (the load phase waits for them before pre_ms starts), so 1 s meets the
     * reset with the same state as a longer stretch would; every write is still read back.
     */
    pre_ms: z.number().int().min(500).default(1000),
    /** I/O after recovery, ms: what shows the I/O going on. */
    post_ms: z.number().int().min(500).default(2000),
    /** How long after the device is back the controller may take to be live, ms. */
    recovery_deadline_ms: z.number().int().min(1000).max(900_000).default(20_000),
    /**
     * A target-side reset: how long after the device is back the target may take to
     * listen on the controller's port again, ms (src/scenario/port-listeners.ts). The
     * series binds the port at once when a device is added and retries every
     * NVMET_RDMA_PORT_RETRY_SECS (5 s) while no device holds the address; 3 s more for
     * a slow guest. Stock nvmet-rdma never binds it again.
     */
    relisten_within_ms: z.number().int().min(1000).max(600_000).default(8_000),
    /**
     * When to inject: 'io' (during I/O), 'connect' (while connecting) or 'reconnect'
     * (during I/O, once the host reconnects after the target stopped answering ARP).
     */
    during: z.enum(['io', 'connect', 'reconnect']).default('io'),
    /**
     * How long into the connect the reset comes, ms: during: connect, after the connect
     * write starts; during: reconnect, after the first reconnect attempt starts
     * (reconnect_delay after the controller reads "connecting").
     */
    inject_after_ms: z.number().int().min(0).max(60_000).default(50),
    /** during: reconnect only: how the reconnect is held in address resolution, and the removal's bound. */
    reconnect: ReconnectSpec.optional(),
    admin: AdminSpec.optional(),
    restore: RestoreSpec.optional(),
    hold_tx: HoldTxSpec.optional(),
    /** More controllers on the reset device than the loaded one: a second subsystem, a persistent discovery controller. */
    extra_controllers: z.array(z.enum(['subsystem', 'discovery'])).min(1).max(2).optional(),
    /** With extra_controllers: their connect starts this long before the device goes, so it is still in flight then (omit: live before the load), ms. */
    extra_in_flight_ms: z.number().int().min(0).max(10_000).optional(),
    load: LoadSpec.default(LoadSpec.parse({})),
    connect: ConnectSpec.default(ConnectSpec.parse({})),
    expect: Expect.default(Expect.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.admin && s.admin.after_ms >= s.down_ms) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'after_ms'], message: `must be less than down_ms (${s.down_ms}): the action happens while the device is away` });
    } else if (s.admin && s.admin.after_ms + adminSpanMs(s.admin) >= s.down_ms) {
      const span = adminSpanMs(s.admin);
      ctx.addIssue({ code: 'custom', path: ['admin', 'interval_ms'], message: `after_ms + (count - 1) * interval_ms = ${s.admin.after_ms + span} must be less than down_ms (${s.down_ms}): every addition happens while the device is away; lower count or interval_ms, or raise down_ms` });
    }
    if (s.admin && s.during !== 'io') {
      ctx.addIssue({ code: 'custom', path: ['admin'], message: `not with during: ${s.during}; use one or the other` });
    }
    checkReconnect(s, ctx);
    checkPaths(s, ctx);
    checkRestore(s, ctx);
    if (s.hold_tx && s.reset !== 'module-reload') {
      ctx.addIssue({ code: 'custom', path: ['hold_tx'], message: `only with reset: module-reload (the skbs are held while rdma_rxe is unloaded), not ${s.reset}` });
    }
    if (s.extra_controllers && (s.topology === 'pair2' || s.during !== 'io')) {
      ctx.addIssue({ code: 'custom', path: ['extra_controllers'], message: 'only with topology pair or loopback and during: io' });
    }
    if (s.extra_in_flight_ms !== undefined && !s.extra_controllers) {
      ctx.addIssue({ code: 'custom', path: ['extra_in_flight_ms'], message: 'only with extra_controllers: it says when their connect starts' });
    }
    if (s.extra_controllers && new Set(s.extra_controllers).size !== s.extra_controllers.length) {
      ctx.addIssue({ code: 'custom', path: ['extra_controllers'], message: 'each kind once: [subsystem], [discovery] or [subsystem, discovery]' });
    }
  })
  .transform((s) => (s.topology === 'pair2' ? { ...s, paths: s.paths ?? PathsSpec.parse({}) } : s))
  .transform((s) => (s.during === 'reconnect' ? { ...s, reconnect: s.reconnect ?? ReconnectSpec.parse({}) } : s));

interface ReconnectFields {
  during: string;
  reconnect?: unknown;
  side: string;
  reset: string;
  topology: string;
  resets: number;
  extra_controllers?: unknown;
  connect: { host_traddr?: boolean };
}

/**
 * during: reconnect is the host's device removed by `rdma link delete` once, in the pair
 * (another VM answers, or does not answer, ARP); host_traddr only where the host's own
 * connect takes it (not the multipath paths or the extra controllers).
 */
function checkReconnect(s: ReconnectFields, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (s.connect.host_traddr && (s.topology === 'pair2' || s.extra_controllers)) {
    issue(['connect', 'host_traddr'], 'only for the host\'s one controller: not with topology: pair2 or extra_controllers');
  }
  if (s.during !== 'reconnect') {
    if (s.reconnect !== undefined) issue(['reconnect'], `only with during: reconnect, not ${s.during}`);
    return;
  }
  if (s.side !== 'host') issue(['side'], `during: reconnect removes the host's device while the host reconnects; use side: host, not ${s.side}`);
  if (s.reset !== 'rdma-link') issue(['reset'], `during: reconnect removes the device with \`rdma link delete\` in its own process (a removal that never returns must not stop the agent); use reset: rdma-link, not ${s.reset}`);
  if (s.topology !== 'pair') issue(['topology'], `during: reconnect needs the target in another VM (its ARP answers are held back); use topology: pair, not ${s.topology}`);
  if (s.resets !== 1) issue(['resets'], 'during: reconnect makes one reset: use resets: 1');
}

/** A renamed device only for one reset (the next trigger would look for the old name); a late address only where the address goes. */
function checkRestore(s: { restore?: z.output<typeof RestoreSpec>; reset: string; resets: number }, ctx: z.RefinementCtx): void {
  if (!s.restore) return;
  if (s.restore.rxe_name && s.resets !== 1) ctx.addIssue({ code: 'custom', path: ['restore', 'rxe_name'], message: 'only with resets: 1' });
  if (s.restore.address_delay_ms > 0 && !['pci-rebind', 'hotplug'].includes(s.reset)) {
    ctx.addIssue({ code: 'custom', path: ['restore', 'address_delay_ms'], message: `${s.reset} keeps the netdev and its address; use reset: pci-rebind or hotplug` });
  }
}

/** The pair2 fields: paths only there, reset paths among the connected ones, one device per path. */
function checkPaths(s: { topology: string; paths?: PathsSpec; reset: string; during: string; admin?: unknown; down_ms: number }, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (s.topology !== 'pair2') {
    if (s.paths) issue(['paths'], 'only with topology: pair2 (two links); remove it or set topology: pair2');
    return;
  }
  const p = s.paths ?? PathsSpec.parse({});
  if (new Set(p.connect).size !== p.connect.length) issue(['paths', 'connect'], 'a link may be connected once: e.g. [0, 1]');
  const missing = p.reset.filter((i) => !p.connect.includes(i));
  if (missing.length) issue(['paths', 'reset'], `link ${missing.join(', ')} is reset but not connected; reset only links in paths.connect`);
  const tcp = p.reset.filter((i) => p.transports[i] === 'tcp');
  if (tcp.length) issue(['paths', 'reset'], `link ${tcp.join(', ')} carries nvme-tcp: it has no RDMA device to reset; reset an rdma link`);
  if (p.stagger_ms > 0 && p.stagger_ms >= s.down_ms) issue(['paths', 'stagger_ms'], `must be less than down_ms (${s.down_ms}): the next device goes while the first is still away`);
  if (s.reset === 'module-reload') issue(['reset'], 'module-reload takes every rxe device at once, not one path; use rdma-link, pci-rebind, hotplug or link-flap');
  if (s.during === 'connect' || s.admin) issue(s.admin ? ['admin'] : ['during'], 'not with topology: pair2 yet; multipath runs are during: io without an admin action');
}
export type ScenarioSpec = z.output<typeof ScenarioSpec>;
export type ScenarioInput = z.input<typeof ScenarioSpec>;

export function parseScenario(input: unknown, source = 'scenario'): ScenarioSpec {
  const r = ScenarioSpec.safeParse(input);
  if (!r.success) {
    throw new UsageError(`${describeIssues(r.error)} (in ${source}; fix that field)`);
  }
  return r.data;
}

/** A user's scenario file: YAML or JSON, one scenario or a list. */
export async function loadScenarioFile(path: string): Promise<ScenarioSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, 'scenario file');
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, 'scenario file');
  }
  const list = Array.isArray(data) ? data : [data];
  return list.map((d, i) => parseScenario(d, list.length > 1 ? `${path}[${i}]` : path));
}
