// The no-admin guard: from the moment a reset is triggered, nothing may act on the NVMe
// layer by hand (no connect, no configfs change on the target, no controller reset,
// delete or rescan). Only the injector's device-level restore steps (PCI bind, netdev
// address, rxe device) may act. Refused attempts are recorded and reported.

export interface GuardRecord {
  at: number;
  op: string;
  what: string;
}

const ADMIN_PATHS = [/^\/sys\/kernel\/config\/nvmet(\/|$)/, /^\/dev\/nvme-fabrics$/, /^\/sys\/class\/nvme(-fabrics)?\//, /^\/sys\/devices\/virtual\/nvme-fabrics\//];
const WRITE_OPS = new Set(['writeFile', 'mkdir', 'rmdir', 'symlink', 'unlink']);
const ADMIN_TOOLS = new Set(['nvme', 'nvmetcli']);

/** What an agent request would do to the NVMe layer, or undefined if it is not an admin action. */
export function adminAction(op: string, args: Record<string, unknown>): string | undefined {
  if (op.startsWith('fabrics.')) return `${op} (a new NVMe-oF connect)`;
  if (op.startsWith('nvmet.')) return `${op} (the nvmet target's configfs)`;
  if (WRITE_OPS.has(op)) {
    const path = typeof args.path === 'string' ? args.path : '';
    if (ADMIN_PATHS.some((re) => re.test(path))) return `${op} ${path}`;
  }
  if (op === 'exec' && Array.isArray(args.argv)) {
    const argv = args.argv.map(String);
    const tool = argv[0]?.split('/').pop() ?? '';
    if (ADMIN_TOOLS.has(tool)) return `exec ${argv.join(' ')}`;
    // A shell line that writes to an admin path.
    const line = argv.join(' ');
    if (/>\s*\/(sys\/kernel\/config\/nvmet|dev\/nvme-fabrics|sys\/class\/nvme)/.test(line)) return `exec ${line}`;
  }
  return undefined;
}

export class AdminGuard {
  armedAt?: number;
  readonly refused: GuardRecord[] = [];
  /** Admin actions a scenario performs on purpose (delete, unload, ... during recovery). */
  readonly scripted: GuardRecord[] = [];
  private allowing = 0;

  /** Runs a deliberate admin action of the scenario's own; it is recorded, not refused. */
  async allow<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.scripted.push({ at: Date.now(), op: 'scenario', what });
    this.allowing++;
    try {
      return await fn();
    } finally {
      this.allowing--;
    }
  }

  arm(): void {
    this.armedAt ??= Date.now();
  }

  /** Throws (and records) when armed and the request is an admin action. */
  check(op: string, args: Record<string, unknown>): void {
    if (this.armedAt === undefined || this.allowing > 0) return;
    const what = adminAction(op, args);
    if (!what) return;
    this.refused.push({ at: Date.now(), op, what });
    throw new Error(`no-admin guard: refused "${what}" after the reset was triggered`);
  }
}
