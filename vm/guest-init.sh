#!/bin/sh
# reset-bench stage 2: runs on the host's root (read-only 9p under a tmpfs overlay).
# Reads rb.* from the kernel command line, prepares the guest and execs the agent.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

for a in $(cat /proc/cmdline); do
	case "$a" in
	rb.modules=*) RB_MODULES="${a#*=}" ;;
	rb.project=*) RB_PROJECT="${a#*=}" ;;
	rb.hostname=*) RB_HOSTNAME="${a#*=}" ;;
	rb.ip=*) RB_IP="${a#*=}" ;;
	rb.role=*) RB_ROLE="${a#*=}" ;;
	esac
done

die() {
	echo "RESET_BENCH_INIT_FAILED: $*" >/dev/console
	echo o >/proc/sysrq-trigger
	sleep 10
}

# No tmpfs over /tmp or /run: the overlay root is writable already, and the project or
# the kernel cache may live under /tmp on the host (a CI clone, RESET_BENCH_CACHE).
mkdir -p /lib/modules
ln -sfn "$RB_MODULES" "/lib/modules/$(uname -r)" || die "cannot link the module tree"
echo /sbin/modprobe >/proc/sys/kernel/modprobe

# One modprobe for all (every process start is slow under TCG). No udev here, so the
# drivers of the lab's devices are loaded by hand; rdma_rxe needs a crc32 shash it does
# not declare (KERNEL-NOTES.md), hence crc32_generic.
modprobe -aq configfs virtio_console virtio_net crc32_generic 2>/dev/null
mount -t configfs configfs /sys/kernel/config || die "configfs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -w /proc/sys/kernel/hung_task_timeout_secs ] && echo 30 >/proc/sys/kernel/hung_task_timeout_secs
[ -n "$RB_HOSTNAME" ] && hostname "$RB_HOSTNAME"

ip link set lo up
if [ -n "$RB_IP" ] && [ -e /sys/class/net/eth0 ]; then
	ip addr add "$RB_IP" dev eth0 && ip link set eth0 up || die "cannot configure eth0"
fi

export RB_ROLE RB_PROJECT UV_THREADPOOL_SIZE=8
exec node "$RB_PROJECT/dist/guest/agent.js"
