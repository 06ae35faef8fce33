// A stuck lab link (src/vm/lab-link.ts): the kernel's NETDEV WATCHDOG line read for how
// long the transmit queue has been stopped, and only a long stop ends the run.
import t from 'tap';
import { LAB_LINK_STUCK_MS, stuckLinkReason, txStoppedMs } from '../../src/vm/lab-link.js';

const debian61 = (ms: number) => `[  362.255578] virtio_net virtio2 eth0: NETDEV WATCHDOG: CPU: 0: transmit queue 0 timed out ${ms} ms`;
const mainline = (ms: number) => `[   31.1] NETDEV WATCHDOG: eth0 (virtio_net): transmit queue 0 timed out ${ms} ms`;

t.test('the stopped time from either form of the line; nothing from other lines', async (t) => {
  t.equal(txStoppedMs(debian61(336248)), 336248, "Debian 6.1's form (the one seen in the lab)");
  t.equal(txStoppedMs(mainline(5004)), 5004, "mainline's form");
  t.equal(
    txStoppedMs('[  362.256180] virtio_net virtio2 eth0: TX timeout on queue: 0, sq: output.0, vq: 0x1, name: output.0, 336248000 usecs ago'),
    336248,
    "virtio-net's own line too (a kernel that prints the watchdog's line once still prints this one at every timeout)",
  );
  t.equal(txStoppedMs('[ 12.0] nvme nvme0: I/O 0 QID 0 timeout'), undefined);
});

t.test('a short stop is left alone, a long one names the guest, the line and why it is the lab', async (t) => {
  t.equal(stuckLinkReason('host', debian61(5144)), undefined, 'one watchdog period');
  t.equal(stuckLinkReason('host', debian61(LAB_LINK_STUCK_MS - 1)), undefined);
  const r = stuckLinkReason('host', debian61(LAB_LINK_STUCK_MS + 400));
  t.match(r, /^the network link of guest host is stuck: its NIC has sent nothing for 30 s \(\[ +362\.255578\] virtio_net virtio2 eth0: NETDEV WATCHDOG/);
  t.match(r, /the link between the VMs \(QEMU's socket, the guest's virtio-net\) is stuck below the NVMe and RDMA code under test/);
  t.equal(stuckLinkReason('target', 'an ordinary line'), undefined);
});
