#!/bin/sh
# reset-bench stage 2: runs on the host's root (read-only 9p under a tmpfs overlay).
# Stage 1 (vm/init) has loaded the lab's drivers, mounted configfs and debugfs,
# configured the network and linked the module tree. This execs the agent. Every
# process start is slow under TCG: shell builtins only, unless stage 1 could not link.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

read -r cmdline </proc/cmdline
for a in $cmdline; do
	case "$a" in
	rb.modules=*) RB_MODULES="${a#*=}" ;;
	rb.project=*) RB_PROJECT="${a#*=}" ;;
	rb.role=*) RB_ROLE="${a#*=}" ;;
	rb.rxe=*) RB_RXE="${a#*=}" ;;
	esac
done
read -r kver </proc/sys/kernel/osrelease

die() {
	echo "RESET_BENCH_INIT_FAILED: $*" >/dev/console
	echo o >/proc/sysrq-trigger
	sleep 10
}

# No tmpfs over /tmp or /run: the overlay root is writable already, and the project or
# the kernel cache may live under /tmp on the host (a CI clone, RESET_BENCH_CACHE).
if ! [ -L "/lib/modules/$kver" ]; then
	mkdir -p /lib/modules
	ln -sfn "$RB_MODULES" "/lib/modules/$kver" || die "cannot link the module tree"
fi

# The lab's rxe devices (rb.rxe=rxe0:eth0,...), there at boot as an RDMA NIC is: one
# process start here (about 0.2 s) against the agent's first netlink request after ready
# (0.4-0.8 s of first-run code under TCG). A failure is left to the lab set-up, which makes the device
# itself and says why it cannot.
IFS=,
for pair in ${RB_RXE:-}; do
	rdma link add "${pair%%:*}" type rxe netdev "${pair#*:}" ||
		echo "<4>reset-bench init: rdma link add ${pair%%:*} on ${pair#*:} failed; the lab set-up makes it" >/dev/kmsg
done
unset IFS

echo "<7>reset-bench init: stage 2 starts the agent" >/dev/kmsg
export RB_ROLE RB_PROJECT UV_THREADPOOL_SIZE=8
# The bundle of dist/guest/agent.js (src/vm/guest-bundle.ts): a few files over 9p, not hundreds.
exec node "$RB_PROJECT/dist/guest-bundle/agent.js"
