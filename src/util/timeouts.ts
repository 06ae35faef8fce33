// Why: every wait in the harness has a deadline, and a deadline is only reviewable with
// its reason next to it. Every deadline and every poll interval of src/ lives here, each
// named for what it waits for: the reset injectors (src/reset), the lab's NVMe set-up
// (src/orchestrate), the runner and the loader it drives (src/scenario), the VMs and the
// guest agent (src/vm, src/guest), and the host tools that fetch and build kernels
// (src/kernel). Sizes are for TCG guests on a loaded 2-core machine, where everything is
// 10-50x slower than on hardware; a deadline that runs out is a harness ERROR (exit 3),
// never a FAIL, so they err on the long side. A scenario's own durations (down_ms,
// recovery_deadline_ms, ...) are not here: they are the scenario's, in its file.

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

/**
 * during: reconnect: the controller reading "connecting" once ARP is held back: its
 * keep-alive (kato, 5 s by default) or an I/O (30 s) times out, then error recovery.
 */
export const RECONNECT_START_MS = 60_000;
/** `ip neigh flush` in a guest (ip starts from 9p under TCG). */
export const NEIGH_FLUSH_MS = 30_000;
/**
 * A removal past its scenario's bound is watched this much longer with ARP answered again,
 * so that a hang is not a resolution that was still waiting for an answer.
 */
export const STUCK_CONFIRM_MS = 5_000;
/** Reading /proc/<pid>/stack of every guest task after a removal that did not return. */
export const TASK_STACKS_MS = 30_000;

/** hold_tx: I/O goes on this long into the netem queue before rdma_rxe is unloaded, so sent skbs are held. */
export const TX_HOLD_FILL_MS = 1_000;
/** A `tc qdisc` change on the guest's lab netdev (tc starts from 9p under TCG). */
export const TC_QDISC_MS = 30_000;

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

/** RTM_NEWLINK of a virtual link (a dummy netdev): the kernel may load its module from 9p first. */
export const VIRTUAL_LINK_ADD_MS = 30_000;

// --- NVMe over Fabrics set-up ---------------------------------------------------------

/** The host's write to /dev/nvme-fabrics: the kernel answers once the admin queue is up. */
export const FABRICS_CONNECT_WRITE_MS = 60_000;
/** The whole nvmet apply in the target VM, one request (about 30 configfs files; a port's last link binds its listener). */
export const NVMET_APPLY_MS = 30_000;
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

/** The loader's first completed I/O after the agent began its job (op load.run: the addon's ring set up, the device opened). */
export const LOADER_FIRST_IO_MS = 90_000;
/** The agent's load.run beyond the job's own runtime: its final read-back pass. */
export const LOADER_EXEC_SLACK_MS = 180_000;
/** Between two resets of a series, the controller coming live before the next (not waiting longer is fine). */
export const BETWEEN_RESETS_LIVE_MS = 3_000;
/** One kmemleak scan of a debug kernel's whole memory (minutes under TCG). */
export const KMEMLEAK_SCAN_MS = 180_000;
/** `rmmod nvme_rdma` as a scenario's admin action: it tears down every controller first. */
export const NVME_RDMA_UNLOAD_MS = 120_000;
/**
 * How long each wait for a controller state lasts before the watch looks whether the
 * controller still exists: the most a certain FAIL (a deleted controller nothing can
 * bring back) can take longer than its deletion.
 */
export const DELETION_CHECK_MS = 500;
/** How often the watch lists the target's listeners until the port is back. */
export const RELISTEN_POLL_MS = 250;
/**
 * How long a reset's trigger may take before a controller being deleted ends the run
 * (src/scenario/stuck-reset.ts): stock rdma-link and module-reload triggers return within
 * about a second with the controller already deleting, and those runs go on as before.
 */
export const STUCK_TRIGGER_GRACE_MS = 3_000;
/**
 * reset-during-connect: how long the device's removal may take while the connect it
 * raced is in flight; past it the run is a FAIL naming the blocked tasks. Patched 6.1
 * returns within tens of ms (the removal ends the connect's CM wait, ENETRESET); stock
 * 6.1's DELLINK waited in cma_remove_one for the connect's cm_id for over 150 s (the
 * agent's netlink deadline ran out first), the connect's CM exchange retrying meanwhile.
 */
export const RACE_REMOVAL_WITHIN_MS = 10_000;
/** The least time the watch leaves to see I/O complete once the controller is live again. */
export const MIN_IO_WAIT_MS = 1_000;
/**
 * After a target's keep-alive timer ends an association the host abandoned (a link
 * flap ate the host's disconnect), how long nvmet takes to free its queues under TCG.
 */
export const RDMA_TEARDOWN_MS = 3_000;
/** How often the RDMA resource counts are read again while a growth may still be such an association. */
export const RDMA_SETTLE_POLL_MS = 500;

// --- The loader in a run (src/scenario/loader.ts) ---------------------------------------

/**
 * At the loader's end, how long I/O still in flight is waited for before the loader gives
 * up on it (leaks its buffers and reports the count, inflightAtEnd). A run ends the loader
 * after the outage it measured, so I/O still stuck then is a finding, not something to
 * wait out; the drain and the final read-back must fit in LOADER_EXEC_SLACK_MS.
 */
export const LOADER_DRAIN_MS = 20_000;
/**
 * The loader's drain when the run stops it without the read-back (the controller did not
 * recover, or was deleted): the verdict is already decided, I/O still stuck then is a
 * finding (inflightAtEnd records it), not something to wait out. Stock target-side
 * resets left 8 writes queued on a controller still connecting; each FAIL spent the whole
 * LOADER_DRAIN_MS here, then all of a 2 s drain (nine stock FAILs of the catalog, 18 s):
 * what completes after a stop does so at once (errors of a deleted controller).
 */
export const LOADER_STOP_DRAIN_MS = 500;
/**
 * The loader's own runtime is a backstop (the runner ends it through its control file):
 * this many times the run's planned length, plus LOADER_BACKSTOP_EXTRA_MS, because a slow
 * (debug) kernel stretches every step. Running out of it is a harness ERROR.
 */
export const LOADER_BACKSTOP_FACTOR = 4;
export const LOADER_BACKSTOP_EXTRA_MS = 60_000;
/** In the planned length: what one reset takes beyond its down_ms (the injector's own steps). */
export const RESET_STEPS_ESTIMATE_MS = 3_000;
/** `reset-bench load`'s drain when the job does not set drainTimeoutMs (a command-line run has no outage to report). */
export const LOAD_DRAIN_DEFAULT_MS = 60_000;

// --- VMs and their channels (src/vm) --------------------------------------------------

/** A guest from QEMU's start to the agent's "ready" (TCG: tens of seconds; a slow CI box more). */
export const VM_BOOT_MS = 120_000;
/** QEMU saving a lab VM at the snapshot point into a file (about 90 MB; 1-3 s under TCG). */
export const SNAPSHOT_SAVE_MS = 60_000;
/** QEMU loading a saved VM state before the VM runs (0.3-0.8 s measured). */
export const SNAPSHOT_LOAD_MS = 30_000;
/** QMP's greeting and capability negotiation once QEMU listens. */
export const QMP_OPEN_MS = 10_000;
/** The whole QMP connect (socket, greeting, capabilities) inside a boot. */
export const QMP_CONNECT_MS = 15_000;
/** A QMP command's answer (device_del and device_add answer at once; the effect comes as an event). */
export const QMP_COMMAND_MS = 10_000;
/** A file operation in the guest: sysfs and configfs answer at once unless the kernel is stuck. */
export const GUEST_FS_CALL_MS = 30_000;
/** The longest deadline a request to the agent may carry: anything longer is a malformed request. */
export const AGENT_DEADLINE_MAX_MS = 3_600_000;
/** `reset-bench vm exec|shell` without --timeout: the command in the guest, boot not counted. */
export const VM_COMMAND_MS = 600_000;
/** An agent call without a deadline of its own. */
export const AGENT_CALL_MS = 30_000;
/** The agent's imports after "ready" (its op `warm`): execa alone took up to 9 s under TCG on a loaded 2-core machine. */
export const AGENT_WARM_MS = 60_000;
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

// --- Host tools: fetching and building kernels (src/kernel, src/util/exec.ts) ----------

/** A host command run without a deadline of its own (git, dpkg, file): far beyond any of them. */
export const HOST_COMMAND_MS = 600_000;
/** `apt-get download` of one pinned package: linux-source and linux-image are 70-150 MB each from a mirror. */
export const APT_DOWNLOAD_MS = 900_000;
/** Unpacking the kernel source tarball (`tar -xf`, xz; 1.5 GB and ~79k files unpacked) on a busy disk. */
export const SOURCE_UNPACK_MS = 900_000;
/** `make M=... modules -j2` of the nvme and RDMA directories for one module variant. */
export const MODULE_BUILD_MS = 900_000;
/** `cp -al` of the pristine source tree for a debug build (hard links to ~79k files). */
export const KERNEL_TREE_COPY_MS = 600_000;
/** `merge_config.sh` of the debug fragments (it runs olddefconfig). */
export const KCONFIG_MERGE_MS = 300_000;
/**
 * A whole debug kernel build (`make` at nice 19, -j2): 97 min measured for 6.12 with
 * KASAN and lockdep beside running VMs; three times that before it is called hung.
 */
export const KERNEL_BUILD_MS = 5 * 3_600_000;
/** Another reset-bench holding the cache lock of the kernel or modules this one needs (it is fetching or building them). */
export const CACHE_LOCK_MS = 3_600_000;

// --- Poll intervals: how often a wait looks again ---------------------------------------

/** pollUntil's default. */
export const POLL_MS = 50;
/** The cache lock's holder: it holds it for minutes. */
export const CACHE_LOCK_POLL_MS = 1_000;
/** The agent's waitFor on a sysfs file (controller state): a state lasts milliseconds, so look often. */
export const GUEST_STATE_POLL_MS = 20;
/** The harness reading how long the VMs' QEMU threads waited for a CPU (src/vm/starvation.ts): a handful of /proc files each time. */
export const STARVATION_SAMPLE_MS = 100;
/** The guests' timeline samplers (controller and device states), started by the runner. */
export const TIMELINE_SAMPLE_MS = 20;
/** The runner reading the loader's progress file (one agent round trip each). */
export const LOADER_PROGRESS_POLL_MS = 50;
/**
 * The loader's progress tick in a run: it rewrites its progress file and looks at its
 * control file this often, so the runner's stop (SIGUSR2 through that file) waits half
 * of it on average; a tick is three tmpfs syscalls.
 */
export const LOADER_PROGRESS_TICK_MS = 100;
/** The namespace appearing in the controller's sysfs directory (one agent readdir each). */
export const NAMESPACE_SYSFS_POLL_MS = 50;
/** A netlink receive in the addon's worker thread, so that close() never waits longer than this. */
export const NETLINK_RECV_SLICE_MS = 250;
/** After a netlink monitor's receive failed (other than ENOBUFS), before it reads again. */
export const NETLINK_MONITOR_RETRY_MS = 50;
/** The agent's port refusing a write (EAGAIN): the first pause, doubled up to the second. */
export const PORT_EAGAIN_FIRST_PAUSE_MS = 1;
export const PORT_EAGAIN_MAX_PAUSE_MS = 50;
/** A debug kernel build's progress line (the last line of make.log) on the terminal. */
export const BUILD_PROGRESS_EVERY_MS = 30_000;
