// Why: every wait in the harness has a deadline, and a deadline is only reviewable with
// its reason next to it. The deadlines of the reset injectors (src/reset), the lab's
// NVMe set-up (src/orchestrate) and the guest agent live here, each named for what it
// waits for. Sizes are for TCG guests on a loaded 2-core machine, where everything is
// 10-50x slower than on hardware; a deadline that runs out is a harness ERROR (exit 3),
// never a FAIL, so they err on the long side.

// --- RDMA devices (rxe) -------------------------------------------------------------

/** A new rxe device reaching port state ACTIVE (a second or two under TCG). */
export const RXE_ACTIVE_MS = 15_000;
/** RDMA netlink NEWLINK of an rxe device: the kernel may load rdma_rxe first. */
export const RXE_NEWLINK_MS = 15_000;
/**
 * RDMA netlink DELLINK of an rxe device: the kernel answers only once every client
 * (nvme-rdma, nvmet-rdma, rdma_cm) has let go, and a stock kernel can wait out NVMe
 * I/O and keep-alive timeouts (60 s and more) first.
 */
export const RXE_DELLINK_MS = 150_000;
/** An rxe device's sysfs directory going away after a reset that removes it. */
export const RXE_GONE_MS = 15_000;
/** `modprobe -r rdma_rxe`: it waits, like DELLINK, for every rxe device to be released. */
export const RXE_MODULE_UNLOAD_MS = 120_000;

// --- The NIC under the rxe device -----------------------------------------------------

/**
 * QMP device_del until QEMU reports DEVICE_DELETED: the guest acknowledges the PCIe
 * hot-unplug only after it has released the NIC, the rxe device and everything on it
 * (as long as DELLINK, see RXE_DELLINK_MS).
 */
export const NIC_UNPLUG_MS = 150_000;
/** sysfs unbind of the NIC from virtio-pci: the driver's remove waits like an unplug. */
export const NIC_UNBIND_MS = 150_000;
/** sysfs bind of the NIC to virtio-pci: probing a virtio-net function. */
export const NIC_BIND_MS = 30_000;
/** A netdev appearing after a bind or plug, or vanishing after an unbind. */
export const NETDEV_CHANGE_MS = 15_000;

// --- NVMe over Fabrics set-up ---------------------------------------------------------

/** The host's write to /dev/nvme-fabrics: the kernel answers once the admin queue is up. */
export const FABRICS_CONNECT_WRITE_MS = 60_000;
/** A connect write plus the wait for the controller's state to read "live". */
export const CONNECT_LIVE_MS = 60_000;
/** A new controller reading "live" after the connect write returned. */
export const CTRL_LIVE_AFTER_CONNECT_MS = 30_000;
/** A live controller's namespace showing in sysfs (the scan runs after "live"). */
export const NAMESPACE_SYSFS_MS = 10_000;
/** The namespace's block device node appearing in /dev (devtmpfs, then udev-less). */
export const NAMESPACE_NODE_MS = 15_000;

// --- Netlink and the guest agent ------------------------------------------------------

/** A netlink request the kernel answers at once (dumps, link and address changes). */
export const NETLINK_ANSWER_MS = 5_000;
/** One round trip of the clock alignment ping over the agent channel. */
export const CLOCK_SAMPLE_MS = 5_000;
/**
 * The agent's writes to its virtio-serial port: the host reads the channel all the
 * time, so a port that takes nothing for this long means the host is gone or wedged.
 */
export const AGENT_PORT_WRITE_MS = 60_000;

// --- The scenario runner (src/scenario) -----------------------------------------------

/** The loader's first completed I/O after its start (node's start in the guest, then the ring). */
export const LOADER_FIRST_IO_MS = 90_000;
/** The agent's exec of the loader beyond the loader's own runtime: its final read-back pass. */
export const LOADER_EXEC_SLACK_MS = 180_000;
/** Between two resets of a series, the controller coming live before the next (not waiting longer is fine). */
export const BETWEEN_RESETS_LIVE_MS = 3_000;
/** One kmemleak scan of a debug kernel's whole memory (minutes under TCG). */
export const KMEMLEAK_SCAN_MS = 180_000;
/** `rmmod nvme_rdma` as a scenario's admin action: it tears down every controller first. */
export const NVME_RDMA_UNLOAD_MS = 120_000;

// --- VMs and their channels (src/vm) --------------------------------------------------

/** A guest from QEMU's start to the agent's "ready" (TCG: tens of seconds; a slow CI box more). */
export const VM_BOOT_MS = 120_000;
/** QMP's greeting and capability negotiation once QEMU listens. */
export const QMP_OPEN_MS = 10_000;
/** The whole QMP connect (socket, greeting, capabilities) inside a boot. */
export const QMP_CONNECT_MS = 15_000;
/** A QMP command's answer (device_del and device_add answer at once; the effect comes as an event). */
export const QMP_COMMAND_MS = 10_000;
/** A file operation in the guest: sysfs and configfs answer at once unless the kernel is stuck. */
export const GUEST_FS_CALL_MS = 30_000;
/** An agent call without a deadline of its own. */
export const AGENT_CALL_MS = 30_000;
/** An exec in the guest without a deadline of its own. */
export const AGENT_EXEC_MS = 60_000;
/** In the guest, beyond an operation's own deadline, before the agent answers ETIMEDOUT for it. */
export const AGENT_OP_SLACK_MS = 2_000;
/**
 * Beyond an agent call's own deadline: the agent answers ETIMEDOUT 2 s after it, and
 * the answer has to cross a busy TCG guest's virtio-serial port.
 */
export const AGENT_REPLY_SLACK_MS = 7_000;
/** The agent's answer to "poweroff" (it answers, then syncs and powers off). */
export const POWEROFF_CALL_MS = 5_000;
/** QEMU exiting after the guest powered off. */
export const POWEROFF_MS = 20_000;
/** QEMU exiting after SIGKILL: only a stuck kernel thread in QEMU can hold it up. */
export const KILL_MS = 10_000;
