#!/bin/bash
# Check that every patch of the series builds on its own: apply the patches one at a
# time to a copy of the directories the series touches and, after each one, rebuild
# the directories that patch touched, out of tree against the distribution's headers,
# with W=1.  Fails if a build fails or the compiler warns about a file the patch
# touched.
# Usage: kernel-patches/build-each.sh /path/to/linux-source-6.1 /path/to/headers
#   (the lab's cache has both: <cache>/kernels/<abi>/source/linux-source-6.1 and
#    <cache>/kernels/<abi>/headers)
set -u -o pipefail
src=${1:?usage: $0 /path/to/linux-source-6.1 /path/to/headers}
hdr=${2:?usage: $0 /path/to/linux-source-6.1 /path/to/headers}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$hdr/Makefile" ] || { echo "no $hdr/Makefile: give the kernel headers directory" >&2; exit 2; }

shopt -s nullglob
patches=()
for p in "$here"/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$(basename "$p")" in 0000-*) ;; *) patches+=("$p") ;; esac
done
[ ${#patches[@]} -gt 0 ] || { echo "no patches in $here" >&2; exit 2; }

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
	name=$(basename "$p")
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
