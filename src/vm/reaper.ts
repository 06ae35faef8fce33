// No QEMU outlives the harness: every VM process is registered here and killed with
// SIGKILL when the harness exits for any reason it can see (exit, SIGINT, SIGTERM,
// SIGHUP, an uncaught error). For what it cannot see (SIGKILL of node itself) QEMU is
// started under `setpriv --pdeathsig KILL`.
const live = new Set<number>();
let installed = false;

export function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(sig, () => {
      process.stderr.write(`reset-bench: ${sig}: stopping ${live.size} VM(s)\n`);
      killAll();
      process.exit(code);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`reset-bench: uncaught error: ${err.stack ?? String(err)}\n`);
    killAll();
    process.exit(3);
  });
}

export function track(pid: number): void {
  install();
  live.add(pid);
}

export function untrack(pid: number): void {
  live.delete(pid);
}
