// Why: the lab's link between two VMs is a pair of QEMU unix-datagram sockets
// (-netdev dgram). Once, in a patched host-rdma-link run, the host VM's virtio-net
// transmit queue stopped for good during the final read-back: the guest kernel said so
// every 5 s (NETDEV WATCHDOG ... transmit queue 0 timed out N ms), the controller lost its
// keep-alive, and 350 s later ctrl_loss_tmo deleted it; the run was judged a FAIL of the
// series after 393 s. A queue stopped that long is the link between the VMs stuck below
// the NVMe and RDMA code under test (QEMU's socket or the guest's virtio-net), so the
// machine fails the run (an ERROR with the console) instead. A short stop is left alone:
// one 5 s timeout right after boot has been seen on a loopback VM that then ran on
// normally.
//
// The guest's own transmit queue is what the watchdog watches, not the qdisc above it, so
// a scenario that holds packets on purpose (hold_tx's netem qdisc) or takes the link down
// (no carrier: the watchdog is off) does not trip it.

/** A transmit queue stopped this long means the lab's link is stuck, ms. */
export const LAB_LINK_STUCK_MS = 30_000;

/** The core's line (printed at every timeout by 6.1.0-56 and 6.12; mainline 6.1 printed it once, in a WARN). */
const WATCHDOG = /NETDEV WATCHDOG: .*transmit queue \d+ timed out (\d+) ms/;
/** virtio-net's own line, printed at every timeout by its ndo_tx_timeout on every kernel the lab runs. */
const VIRTIO_NET = /virtio_net .*TX timeout on queue: \d+, .* (\d+) usecs ago/;

/** How long a NIC's transmit queue has been stopped, from the kernel's NETDEV WATCHDOG line or virtio-net's TX timeout line, ms; undefined for any other line. */
export function txStoppedMs(line: string): number | undefined {
  const w = WATCHDOG.exec(line);
  if (w) return Number(w[1]);
  const v = VIRTIO_NET.exec(line);
  return v ? Math.floor(Number(v[1]) / 1000) : undefined;
}

/** Why the run cannot go on, when `line` says a transmit queue has been stopped LAB_LINK_STUCK_MS or more; else undefined. */
export function stuckLinkReason(vm: string, line: string): string | undefined {
  const ms = txStoppedMs(line);
  if (ms === undefined || ms < LAB_LINK_STUCK_MS) return undefined;
  return `the network link of guest ${vm} is stuck: its NIC has sent nothing for ${Math.round(ms / 1000)} s (${line.trim()}); the link between the VMs (QEMU's socket, the guest's virtio-net) is stuck below the NVMe and RDMA code under test, so this run cannot judge that code`;
}
