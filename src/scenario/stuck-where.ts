// Where a controller that never came back is stuck, read from the host's kernel log (and
// the target's) and the controller's last state, so that a FAIL names the layer to look
// at: error recovery, waiting to reconnect, address/route resolution, the rdma_cm
// exchange (REQ sent, no REP), the NVMe Connect or what follows it. Pure: the judge feeds
// it the kernel messages with their run times. The messages are nvme-rdma's, nvme
// fabrics' and nvmet's on Debian 6.1 and 6.12 (drivers/nvme/host/rdma.c, fabrics.c,
// drivers/nvme/target/core.c).

/** One kernel message and when it was logged (run ms). */
export interface LogLine {
  ms: number;
  text: string;
}

export type StuckStage =
  | 'error-recovery'
  | 'waiting-to-reconnect'
  | 'resolving'
  | 'rdma-cm'
  | 'nvme-connect'
  | 'after-connect'
  | 'never-noticed'
  | 'deleting'
  | 'unknown';

export interface StuckWhere {
  stage: StuckStage;
  /** Reads after "controller nvme0 still connecting 42.9 s after the device came back". */
  text: string;
}

export interface StuckInputs {
  controller: string;
  /** The controller's state at the end. */
  state: string;
  /** The host's kernel messages (any order; only those from `sinceMs` on are read). */
  host: readonly LogLine[];
  /** The target's kernel messages, when it is another VM. */
  target?: readonly LogLine[];
  /** When the first device went away (run ms). */
  sinceMs: number;
  endMs: number;
}

/**
 * nvme-rdma bounds address and route resolution (NVME_RDMA_CM_TIMEOUT_MS, 3 s each) and
 * logs their failure; an attempt silent for longer than both plus slack is past them.
 */
export const RESOLVE_BOUND_MS = 7000;

const ERRNO: Record<string, string> = {
  '-5': 'EIO',
  '-11': 'EAGAIN',
  '-12': 'ENOMEM',
  '-19': 'ENODEV',
  '-22': 'EINVAL',
  '-99': 'EADDRNOTAVAIL',
  '-101': 'ENETUNREACH',
  '-102': 'ENETRESET',
  '-104': 'ECONNRESET',
  '-110': 'ETIMEDOUT',
  '-111': 'ECONNREFUSED',
  '-113': 'EHOSTUNREACH',
};

/** enum rdma_cm_event_type (include/rdma/rdma_cm.h), for nvme-rdma's "Unexpected RDMA CM event (N)". */
const CM_EVENTS = [
  'ADDR_RESOLVED',
  'ADDR_ERROR',
  'ROUTE_RESOLVED',
  'ROUTE_ERROR',
  'CONNECT_REQUEST',
  'CONNECT_RESPONSE',
  'CONNECT_ERROR',
  'UNREACHABLE',
  'REJECTED',
  'ESTABLISHED',
  'DISCONNECTED',
  'DEVICE_REMOVAL',
  'MULTICAST_JOIN',
  'MULTICAST_ERROR',
  'ADDR_CHANGE',
  'TIMEWAIT_EXIT',
];

/** The reasons an attempt can fail with, in the words of the kernel log. */
const FAILURES: { re: RegExp; what: (m: RegExpMatchArray) => string }[] = [
  { re: /rdma_resolve_addr failed \((-?\d+)\)/, what: (m) => `rdma_resolve_addr ${errno(m[1]!)}` },
  { re: /address resolution failed \((-?\d+)\)/, what: (m) => `address resolution ${errno(m[1]!)}` },
  { re: /rdma_resolve_route failed \((-?\d+)\)/, what: (m) => `rdma_resolve_route ${errno(m[1]!)}` },
  { re: /rdma_connect(?:_locked)? failed \((-?\d+)\)/, what: (m) => `rdma_connect ${errno(m[1]!)}` },
  { re: /rdma connection establishment failed \((-?\d+)\)/, what: (m) => `rdma_cm connection establishment ${errno(m[1]!)}` },
  { re: /Connect rejected: (.*?)\.?$/, what: (m) => `rejected by the target (${m[1]!})` },
  { re: /(Connect command failed.*?|Connect Invalid .*?)\.?$/, what: (m) => m[1]! },
  { re: /(I\/O (?:tag )?\d+ .*QID \d+ timeout)/, what: (m) => m[1]! },
  { re: /Unexpected RDMA CM event \((\d+)\)/, what: (m) => `unexpected rdma_cm event ${CM_EVENTS[Number(m[1])] ?? m[1]!}` },
];

function errno(code: string): string {
  const name = ERRNO[code];
  return name ? `${code} (${name})` : code;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface Attempt {
  n: number;
  startMs: number;
  failedMs?: number;
  errors: { ms: number; what: string }[];
}

interface HostStory {
  recoveryMs?: number;
  /** The first "Reconnecting in" after error recovery began: its teardown is over. */
  tornDownMs?: number;
  attempts: Attempt[];
}

/** The controller's own messages in [since, until], in order, without the "nvme nvmeN: " prefix. */
function ownLines(lines: readonly LogLine[], controller: string, since: number, until: number): LogLine[] {
  const prefix = `nvme ${controller}: `;
  return lines
    .filter((l) => l.ms >= since && l.ms <= until && l.text.startsWith(prefix))
    .map((l) => ({ ms: l.ms, text: l.text.slice(prefix.length) }))
    .sort((a, b) => a.ms - b.ms);
}

/** Error recovery, the attempts and what each failed with. */
export function hostStory(lines: readonly LogLine[], controller: string, since: number, until = Infinity): HostStory {
  const story: HostStory = { attempts: [] };
  let current: Attempt | undefined;
  for (const l of ownLines(lines, controller, since, until)) {
    if (/starting error recovery/.test(l.text)) story.recoveryMs ??= l.ms;
    const wait = /Reconnecting in (\d+) seconds/.exec(l.text);
    if (wait) {
      story.tornDownMs ??= l.ms;
      const startMs = l.ms + Number(wait[1]) * 1000;
      current = { n: story.attempts.length + 1, startMs, errors: [] };
      story.attempts.push(current);
      continue;
    }
    const failed = /Failed reconnect attempt (\d+)/.exec(l.text);
    if (failed && current) {
      current.n = Number(failed[1]);
      current.failedMs = l.ms;
      continue;
    }
    for (const f of FAILURES) {
      const m = f.re.exec(l.text);
      if (m && current) {
        current.errors.push({ ms: l.ms, what: f.what(m) });
        break;
      }
    }
  }
  return story;
}

/** "attempts 1-2 failed: rdma_resolve_addr -101 (ENETUNREACH)" for the failed attempts. */
function failedSummary(attempts: Attempt[]): string {
  const failed = attempts.filter((a) => a.failedMs !== undefined);
  if (!failed.length) return '';
  const first = failed[0]!.n;
  const last = failed[failed.length - 1]!.n;
  const whats = [...new Set(failed.map((a) => a.errors[0]?.what ?? 'no reason logged'))];
  return `; ${first === last ? `attempt ${first}` : `attempts ${first}-${last}`} failed: ${whats.join(', ')}`;
}

/** The target's "creating ... controller N" for a connect after `since`, if any. */
function targetCreated(target: readonly LogLine[] | undefined, since: number, until: number): LogLine | undefined {
  return target?.find((l) => l.ms >= since && l.ms <= until && /nvmet: creating (?:nvm |discovery )?controller \d+/.test(l.text));
}

/** Where the last attempt, still without an outcome at `endMs`, is. */
function inAttempt(a: Attempt, v: StuckInputs): StuckWhere {
  const age = v.endMs - a.startMs;
  const head = `reconnect attempt ${a.n} (started ${secs(age)} before the end)`;
  const err = a.errors[a.errors.length - 1];
  if (err && /timeout$/.test(err.what)) {
    return { stage: 'nvme-connect', text: `${head} is waiting for the NVMe Connect or a later admin command: ${err.what}` };
  }
  const created = targetCreated(v.target, a.startMs, v.endMs);
  if (created) {
    const id = /controller (\d+)/.exec(created.text)?.[1] ?? '?';
    return {
      stage: 'after-connect',
      text: `${head} got through the rdma_cm exchange and the admin queue's NVMe Connect (the target created controller ${id}) and hangs after it (I/O queues or identify)`,
    };
  }
  if (age < RESOLVE_BOUND_MS) {
    return { stage: 'resolving', text: `${head} is still resolving the address and route or connecting` };
  }
  return {
    stage: 'rdma-cm',
    text:
      `${head} logged nothing past address and route resolution (each ends within 3 s or logs why): ` +
      "it waits in rdma_cm for the target's answer to its connect (CM REQ sent, no REP heard; on 6.1 the IB CM gives up after 16 REQs, about 98 s; on 6.12 " +
      'a GSI QP left in error flushes the REQ itself, which is never retried, so the wait has no end), ' +
      'and the target created no controller',
  };
}

/** When the RDMA device's link came back ("infiniband rxe0: set active") after `since`. */
function linkBackMs(lines: readonly LogLine[], since: number): { dev: string; ms: number } | undefined {
  for (const l of [...lines].sort((a, b) => a.ms - b.ms)) {
    const m = /^infiniband (\S+): set active/.exec(l.text);
    if (m && l.ms >= since) return { dev: m[1]!, ms: l.ms };
  }
  return undefined;
}

/** How close to the link's return a teardown may end and still have sent its DREQs on the dead link. */
export const TEARDOWN_OVERLAP_MS = 1000;

/**
 * The rdma_rxe signature of issue 17: error recovery tore the queues down (sending the
 * CM's DREQs) while the link was down. A UD send rxe cannot route moves QP1 to the error
 * state, which flushes its posted receives; ib_mad does not post them again, so the
 * host hears no CM reply from then on.
 */
function teardownWhileDown(story: HostStory, v: StuckInputs): string {
  if (story.recoveryMs === undefined || story.tornDownMs === undefined) return '';
  const back = linkBackMs(v.host, v.sinceMs);
  if (!back || story.recoveryMs > back.ms || story.tornDownMs > back.ms + TEARDOWN_OVERLAP_MS) return '';
  const when = story.tornDownMs <= back.ms ? `${secs(back.ms - story.tornDownMs)} before` : `${secs(story.tornDownMs - back.ms)} after`;
  return (
    `; its error recovery tore the queues down (sending the CM's DREQs) while the link was down, ending ${when} ${back.dev} was active again: ` +
    "with rdma_rxe a send that fails there flushes the host's GSI QP (QP1) receives, which ib_mad never posts again, so no CM reply can arrive"
  );
}

function connecting(v: StuckInputs): StuckWhere {
  const story = hostStory(v.host, v.controller, v.sinceMs, v.endMs);
  const last = story.attempts[story.attempts.length - 1];
  const history = failedSummary(story.attempts);
  if (!last) {
    return { stage: 'unknown', text: `: no reconnect attempt was logged${story.recoveryMs === undefined ? ' and no error recovery' : ''}` };
  }
  if (last.failedMs !== undefined) {
    return { stage: 'unknown', text: `: attempt ${last.n} failed and no further attempt was scheduled${history}` };
  }
  if (last.startMs > v.endMs) {
    return { stage: 'waiting-to-reconnect', text: `: waiting ${secs(last.startMs - v.endMs)} more to start reconnect attempt ${last.n}${history}` };
  }
  const where = inAttempt(last, v);
  const cause = where.stage === 'rdma-cm' ? teardownWhileDown(story, v) : '';
  return { stage: where.stage, text: `: ${where.text}${history}${cause}` };
}

export function stuckWhere(v: StuckInputs): StuckWhere {
  switch (v.state) {
    case 'connecting':
      return connecting(v);
    case 'resetting': {
      const story = hostStory(v.host, v.controller, v.sinceMs, v.endMs);
      const since = story.recoveryMs === undefined ? '' : ` since error recovery started ${secs(v.endMs - story.recoveryMs)} before the end`;
      return { stage: 'error-recovery', text: `: still tearing down its queues${since}; no reconnect attempt started` };
    }
    case 'live':
      return { stage: 'never-noticed', text: ': the host never noticed the reset (no error recovery; keep-alive did not expire)' };
    case 'deleting':
    case 'deleting (no IO)':
      return { stage: 'deleting', text: ': being deleted' };
    default:
      return { stage: 'unknown', text: '' };
  }
}
