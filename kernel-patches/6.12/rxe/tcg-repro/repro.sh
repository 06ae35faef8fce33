#!/bin/sh
# repro.sh KERNEL_DIR SECONDS CPU [RUNS]
# Boots KERNEL_DIR/vmlinux (a reset-bench kernel cache dir, e.g.
# ~/.cache/reset-bench/kernels/6.12.117+deb12-amd64) in a 1-CPU TCG guest
# with only busybox and slabstorm.ko, RUNS times, SECONDS each, with
# "-cpu CPU" (max, or max,-cx16), and counts double faults.  Boots a VM:
# run it under "flock /tmp/reset-bench-vm.lock".
set -eu
kdir=$1 secs=$2 cpu=$3 runs=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/slabstorm.XXXXXX)
cp "$here/slabstorm.c" "$here/Kbuild" "$work/"
nice -n 19 make -s -C "$kdir/headers" M="$work" modules >/dev/null
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys"
cp /usr/bin/busybox "$work/root/bin/"
for c in sh insmod sleep sed mount poweroff; do ln -s busybox "$work/root/bin/$c"; done
cp "$work/slabstorm.ko" "$work/root/"
cat > "$work/root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
secs=$(sed -n 's/.*ss.secs=\([0-9]*\).*/\1/p' /proc/cmdline)
insmod /slabstorm.ko
sleep "$secs"
echo "slabstorm: survived $secs s"
poweroff -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null) > "$work/initrd.cpio"
i=0 df=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	log=$work/run$i.log
	timeout $((secs + 240)) setpriv --pdeathsig KILL qemu-system-x86_64 \
		-machine q35,accel=tcg -cpu "$cpu" -smp 1 -m 512 -nodefaults \
		-no-user-config -display none -no-reboot \
		-kernel "$kdir/vmlinux" -initrd "$work/initrd.cpio" \
		-append "console=ttyS0 loglevel=7 panic=-1 nokaslr no_timer_check clocksource=hpet tsc=unstable ss.secs=$secs" \
		-serial "file:$log" </dev/null || true
	if grep -q 'double fault' "$log"; then
		df=$((df + 1))
		echo "run $i: double fault at $(grep -m1 'double fault' "$log" | cut -c2-13)s: $(grep -m1 -o 'RIP: .*' "$log"), $(grep -m1 -o 'EFLAGS: .*' "$log")"
	else
		echo "run $i: $(grep -m1 -o 'slabstorm: survived.*' "$log" || echo 'no double fault, did not finish')"
	fi
done
echo "cpu=$cpu: $df of $runs runs double-faulted; logs in $work"
