#!/bin/bash
# Check that every patch of one series builds on its own: apply the patches its series
# file lists, one at a time, to a copy of the directories the series touches and, after
# each one, rebuild the directories that patch touched, out of tree against the
# distribution's headers, with W=1.  Fails if a build fails or the compiler warns about
# a file the patch touched.
# Usage: kernel-patches/build-each.sh SERIES_DIR LINUX_SOURCE HEADERS
#   e.g. kernel-patches/build-each.sh kernel-patches/6.12 \
#          <cache>/kernels/6.12.117+deb12-amd64/source/linux-source-6.12 \
#          <cache>/kernels/6.12.117+deb12-amd64/headers
#   (`reset-bench kernel fetch --series 6.12` puts both in the cache)
set -u -o pipefail
usage="usage: $0 SERIES_DIR LINUX_SOURCE HEADERS"
series=${1:?$usage}
src=${2:?$usage}
hdr=${3:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=series.sh
. "$here/series.sh"
[ -d "$series" ] || { echo "$series is not a series directory; $usage" >&2; exit 2; }
series=$(cd "$series" && pwd)
[ -f "$hdr/Makefile" ] || { echo "no $hdr/Makefile: give the kernel headers directory" >&2; exit 2; }

list=$(series_patches "$series") || exit 2
mapfile -t patches <<<"$list"
[ -n "$list" ] || { echo "no patches in $series/series" >&2; exit 2; }

# The directories the series touches, from the patches' own headers.
# (git format-patch writes no timestamp after the name; diff -u does, after a tab.)
files_of() { sed -n 's|^+++ b/\([^\t]*\).*|\1|p' "$@" | sort -u; }
mapfile -t dirs < <(files_of "${patches[@]}" | sed 's|/[^/]*$||' | sort -u)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for d in "${dirs[@]}"; do
	[ -d "$src/$d" ] || { echo "no $src/$d" >&2; exit 2; }
	mkdir -p "$work/$d"
	cp -a "$src/$d/." "$work/$d/"
done

build() {	# build <dir> <log>
	make -s -C "$hdr" M="$work/$1" W=1 -j"$(nproc)" modules >"$2" 2>&1
}

# The untouched directories first, so a warning the base already has is not blamed
# on a patch.
for d in "${dirs[@]}"; do
	build "$d" "$work/base.log" || { echo "FAIL  base: $d does not build"; cat "$work/base.log"; exit 1; }
done

rc=0
for p in "${patches[@]}"; do
	name=${p#"$series"/}
	if ! patch -s -p1 --batch --forward -d "$work" -i "$p" >"$work/patch.log" 2>&1; then
		echo "FAIL  $name: does not apply"; cat "$work/patch.log"; exit 1
	fi
	mapfile -t files < <(files_of "$p")
	mapfile -t touched < <(printf '%s\n' "${files[@]}" | sed 's|/[^/]*$||' | sort -u)
	for d in "${touched[@]}"; do
		if ! build "$d" "$work/build.log"; then
			echo "FAIL  $name: $d does not build"; cat "$work/build.log"; rc=1; continue
		fi
		warned=0
		for f in "${files[@]}"; do
			grep -F "$(basename "$f"):" "$work/build.log" | grep -q 'warning:' && warned=1
		done
		if [ $warned -eq 1 ]; then
			echo "FAIL  $name: W=1 warnings in $d"; grep 'warning:' "$work/build.log"; rc=1
		else
			echo "ok    $name: $d builds, W=1 clean"
		fi
	done
done
exit $rc
