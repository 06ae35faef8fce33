// Why: the lab's link between two VMs is a pair of QEMU unix-datagram sockets
// (-netdev dgram). Once, in a patched host-rdma-link run, the host VM's virtio-net
// transmit queue stopped for good during the final read-back: the guest kernel said so
// every 5 s (NETDEV WATCHDOG ... transmit queue 0 timed out N ms), the controller lost its
// keep-alive, and 350 s later ctrl_loss_tmo deleted it; the run was judged a FAIL of the
// series after 393 s. A queue stopped that long is the lab failing below the code under
// test, so the machine fails the run (an ERROR with the console) instead. A short stop
// is left alone: one 5 s timeout right after boot has been seen on a loopback VM that
// then ran on normally.
//
// The guest's own transmit queue is what the watchdog watches, not the qdisc above it, so
// a scenario that holds packets on purpose (hold_tx's netem qdisc) or takes the link down
// (no carrier: the watchdog is off) does not trip it.

/** A transmit queue stopped this long means the lab's link is stuck, ms. */
export const LAB_LINK_STUCK_MS = 30_000;

const TX_TIMEOUT = /NETDEV WATCHDOG: .*transmit queue \d+ timed out (\d+) ms/;

/** How long a NIC's transmit queue has been stopped, from the kernel's NETDEV WATCHDOG line, ms; undefined for any other line. */
export function txStoppedMs(line: string): number | undefined {
  const m = TX_TIMEOUT.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Why the run cannot go on, when `line` says a transmit queue has been stopped LAB_LINK_STUCK_MS or more; else undefined. */
export function stuckLinkReason(vm: string, line: string): string | undefined {
  const ms = txStoppedMs(line);
  if (ms === undefined || ms < LAB_LINK_STUCK_MS) return undefined;
  return `the network link of guest ${vm} is stuck: its NIC has sent nothing for ${Math.round(ms / 1000)} s (${line.trim()}); that is the lab (QEMU's link between the VMs) failing below the kernel's NVMe and RDMA code, so this run says nothing about them`;
}
