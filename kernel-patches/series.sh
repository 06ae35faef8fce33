# Sourced by check.sh and build-each.sh: the patches of a series directory, in order.
# <dir>/series lists one entry per line ('#' comments, blank lines ignored): a patch
# file, or a directory (a set: one git format-patch series) whose NNNN-*.patch files
# other than 0000-* (its cover letter) are applied in name order. The same rules as
# src/kernel/series.ts.

# series_patches DIR: prints one absolute patch path per line; on a bad entry prints
# the reason to stderr and returns 2.
series_patches() {
	local dir=$1 file=$1/series n=0 line entry p found LC_ALL=C
	[ -f "$file" ] || { echo "no $file: a series directory has a series file listing its patches" >&2; return 2; }
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		entry=${line%%#*}
		entry=$(printf '%s' "$entry" | sed 's/^[[:space:]]*//;s/[[:space:]]*$//')
		[ -n "$entry" ] || continue
		if [ -f "$dir/$entry" ]; then
			printf '%s\n' "$dir/$entry"
		elif [ -d "$dir/$entry" ]; then
			found=0
			for p in "$dir/$entry"/[0-9][0-9][0-9][0-9]-*.patch; do
				[ -f "$p" ] || continue
				case "$(basename "$p")" in 0000-*) continue ;; esac
				printf '%s\n' "$p"
				found=1
			done
			[ $found -eq 1 ] || { echo "$file:$n: set '$entry' has no patches yet ($dir/$entry has no NNNN-*.patch besides a cover letter)" >&2; return 2; }
		else
			echo "$file:$n: '$entry' is neither a patch file nor a set directory in $dir" >&2
			return 2
		fi
	done <"$file"
}
