#!/bin/bash
# Run scripts/checkpatch.pl --strict on every patch of one series (the patches its
# series file lists, cover letters skipped).
# Usage: kernel-patches/check.sh kernel-patches/6.12 /path/to/linux-source-6.12
# Exits 1 if checkpatch reports any error, warning or check on a patch, 2 on bad
# arguments or a series entry that is missing or has no patches yet.
set -u
usage="usage: $0 SERIES_DIR LINUX_SOURCE   (e.g. $0 kernel-patches/6.12 ~/.cache/reset-bench/kernels/6.12.117+deb12-amd64/source/linux-source-6.12)"
series=${1:?$usage}
src=${2:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=series.sh
. "$here/series.sh"
[ -d "$series" ] || { echo "$series is not a series directory; $usage" >&2; exit 2; }
series=$(cd "$series" && pwd)
cp="$src/scripts/checkpatch.pl"
[ -f "$cp" ] || { echo "no $cp: the second argument is a kernel source tree" >&2; exit 2; }

list=$(series_patches "$series") || exit 2
mapfile -t patches <<<"$list"
[ -n "$list" ] || { echo "no patches in $series/series" >&2; exit 2; }

rc=0
for p in "${patches[@]}"; do
	name=${p#"$series"/}
	# The source tree is only needed for the script and its data files, which are
	# found relative to the script itself.
	# UNKNOWN_COMMIT_ID: checkpatch looks Fixes:/commit ids up in the git tree it
	# runs in; a Debian source package is none, so every id would be "unknown".
	# The ids are checked by hand against the mailing list archives (see README).
	out=$(cd "$src" && perl "$cp" --strict --show-types --ignore UNKNOWN_COMMIT_ID "$p" 2>&1)
	summary=$(printf '%s\n' "$out" | grep -E '^total: ' | tail -1)
	if printf '%s\n' "$summary" | grep -qE '^total: 0 errors, 0 warnings, (0 checks, )?[0-9]+ lines checked'; then
		echo "ok    $name: $summary"
	else
		echo "FAIL  $name: ${summary:-checkpatch produced no summary}"
		printf '%s\n' "$out"
		rc=1
	fi
done
exit $rc
