#!/usr/bin/env bash
# Runs every benchmark, one after the other, and writes $BENCH_OUT/all.md
# (default /tmp/decompose-bench/all.md) with their results. A benchmark that
# fails does not stop the others; the exit code says whether one failed.
#
#   sudo bash bench/all.sh      # about 40 minutes; BENCH_SMOKE=1: about 2 minutes
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-/tmp/decompose-bench}
mkdir -p "$out"
failed=()
: >"$out/all.md"
for b in syscalls hookfloor web pg churn recorder-cost engine; do
	echo "== bench/$b.sh" >&2
	if bash "$here/$b.sh" >/dev/null; then
		cat "$out/$b.md" >>"$out/all.md"
		echo >>"$out/all.md"
	else
		failed+=("$b")
		printf '## %s\n\nFAILED: see the output of `bash bench/%s.sh`.\n\n' "$b" "$b" >>"$out/all.md"
	fi
done
cat "$out/all.md"
if [ ${#failed[@]} -gt 0 ]; then
	echo "all.sh: failed: ${failed[*]}" >&2
	exit 1
fi
