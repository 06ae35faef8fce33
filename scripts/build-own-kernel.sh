#!/bin/bash
# Builds a kernel for `reset-bench run --kernel DIR` from a kernel tree, the way a kernel
# developer with their own tree would: allnoconfig + vm/lab.config (everything the lab
# needs, nothing else), bzImage + modules, modules_install into DIR, bzImage copied to
# DIR. The source tree is not written to (O= keeps every output in the build directory).
#
# Usage: scripts/build-own-kernel.sh SRC OUT [BUILD]
#   SRC    a kernel tree (e.g. Debian's linux-source-6.12, or your clone)
#   OUT    what --kernel gets: OUT/bzImage and OUT/lib/modules/<kver>
#   BUILD  the object directory (default OUT/build)
# Environment: JOBS (default 2), NICE (default 10), LOCALVERSION (default -rb-own).
set -euo pipefail
src=$(cd "${1:?usage: $0 SRC OUT [BUILD]}" && pwd)
mkdir -p "${2:?usage: $0 SRC OUT [BUILD]}"
out=$(cd "$2" && pwd)
obj=${3:-$out/build}
mkdir -p "$obj"
obj=$(cd "$obj" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
nice=${NICE:-10}
[ -f "$src/Makefile" ] || { echo "no kernel Makefile in $src" >&2; exit 2; }

# lab.config names a LOCALVERSION for the debug kernel; this build gets its own. Since
# 6.2 (or so) KALLSYMS_ALL and the debug-info choice depend on DEBUG_KERNEL, which
# allnoconfig leaves off (it only shows the debug menus; it enables no checker).
printf 'CONFIG_LOCALVERSION="%s"\nCONFIG_DEBUG_KERNEL=y\n' "${LOCALVERSION:--rb-own}" >"$obj/own.config"

# 1. Configure: allnoconfig plus the lab fragment (merge_config.sh -n), then check that
#    Kconfig kept every option the fragment asks for (a missing dependency drops one).
(cd "$src" && scripts/kconfig/merge_config.sh -n -O "$obj" "$here/vm/lab.config" "$obj/own.config")
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_LOCALVERSION=*) continue ;;
	CONFIG_*=*) grep -qxF "$line" "$obj/.config" || { echo "lost: $line" >&2; missing=1; } ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }; sym=${sym%% *}
		grep -q "^$sym=[ym]" "$obj/.config" && { echo "still set: $sym" >&2; missing=1; } ;;
	esac
done <"$here/vm/lab.config"
[ $missing -eq 0 ] || { echo "the .config lost options vm/lab.config asks for (see above)" >&2; exit 1; }

# 2. Build and install.
nice -n "$nice" make -C "$src" O="$obj" -j"$jobs" bzImage modules
make -C "$src" O="$obj" INSTALL_MOD_PATH="$out" INSTALL_MOD_STRIP=1 modules_install
kver=$(cat "$obj/include/config/kernel.release")
# The build and source links point into the object and source trees; the guest does not need them.
rm -f "$out/lib/modules/$kver/build" "$out/lib/modules/$kver/source"
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
echo "kernel $kver in $out: npx reset-bench run host-rdma-link --kernel $out"
