#!/bin/bash
# Run scripts/checkpatch.pl --strict on every patch of this series.
# Usage: kernel-patches/check.sh /path/to/linux-source-6.1
# Exits non-zero if checkpatch reports any error, warning or check.
set -u
src=${1:?usage: $0 /path/to/linux-source-tree}
here=$(cd "$(dirname "$0")" && pwd)
cp="$src/scripts/checkpatch.pl"
[ -x "$cp" ] || [ -f "$cp" ] || { echo "no $cp" >&2; exit 2; }

shopt -s nullglob
patches=("$here"/[0-9][0-9][0-9][0-9]-*.patch)
[ ${#patches[@]} -gt 0 ] || { echo "no patches in $here" >&2; exit 2; }

rc=0
for p in "${patches[@]}"; do
	case "$(basename "$p")" in 0000-*) continue ;; esac
	#: the source tree is only needed for the script and its
	# data files, which are found relative to the script itself.
	out=$(cd "$src" && perl "$cp" --strict --show-types "$p" 2>&1)
	summary=$(printf '%s\n' "$out" | grep -E '^total: ' | tail -1)
	if printf '%s\n' "$summary" | grep -qE '^total: 0 errors, 0 warnings, (0 checks, )?[0-9]+ lines checked'; then
		echo "ok    $(basename "$p"): $summary"
	else
		echo "FAIL  $(basename "$p"): ${summary:-checkpatch produced no summary}"
		printf '%s\n' "$out"
		rc=1
	fi
done
exit $rc
