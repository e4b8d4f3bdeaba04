#!/usr/bin/env bash
# test_rush: the rush in small (20,000 users, 1,000 tickets, 4 nodes, 10%
# abandoned, 2 s holds) through scripts/demo with this build's binaries;
# with "kill" as $2, one stock node is killed -9 in the middle; with "quiet",
# 1,000 quiet events are on sale beside it. Passes when
# the verdict passes: sold == tickets, no oversell, nobody twice, nothing
# unsold while demand remained, the load tool agrees with Redis, audit ok.
set -euo pipefail
bin=$1
mode=${2:-plain}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/trrush.XXXXXX)
trap 'rm -rf "$out"' EXIT
args=(--users 20000 --tickets 1000 --hold 2s --bin "$bin" --no-install
	--out "$out" --concurrency 64)
if [ "$mode" = kill ]; then
	args+=(--kill-node-at 0.3 --liveness-ttl 2s)
fi
if [ "$mode" = quiet ]; then
	args+=(--quiet-events 1000)
fi
if ! "$root/scripts/demo" "${args[@]}"; then
	echo "--- verdict"; cat "$out/verdict.json" 2>/dev/null || true
	echo "--- load"; tail -30 "$out/trload.txt" 2>/dev/null || true
	for f in "$out"/trgate.log "$out"/stockd-n*.log; do
		echo "--- $f"; grep -v '^ \{4\}#\|^$' "$f" 2>/dev/null | tail -15 || true
	done
	exit 1
fi
jq -e '.pass and .oversell == 0 and .users_with_two_tickets == 0 and
	.tickets_sold == 1000 and .unsold_while_demand_remained == 0' \
	"$out/verdict.json" >/dev/null
if [ "$mode" = kill ]; then
	grep -q "killed stock node" "$out/events.log"
fi
echo "1 passed, 0 failed"
