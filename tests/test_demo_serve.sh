#!/usr/bin/env bash
# test_demo_serve: `scripts/demo --serve` started as a service manager
# would, then sent SIGTERM: it must exit 0 within 15 s, having stopped
# everything it started (Redis, the stock nodes, the gateway).
# usage: test_demo_serve.sh BUILD_DIR
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/trserve.XXXXXX)
demo=""
kids=()
cleanup() {
	[ -n "$demo" ] && kill -KILL "$demo" 2>/dev/null || true
	for p in "${kids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$out"
}
trap cleanup EXIT
fail() { echo "test_demo_serve: $*" >&2; cat "$out/demo.txt" >&2 || true; exit 1; }

"$root/scripts/demo" --serve --bin "$bin" --no-install --nodes 2 \
	--tickets 10 --out "$out/run" >"$out/demo.txt" 2>&1 &
demo=$!
for i in $(seq 1 600); do
	grep -q "ticketrush is up" "$out/demo.txt" && break
	kill -0 "$demo" 2>/dev/null || fail "demo --serve exited before it was up"
	sleep 0.1
done
grep -q "ticketrush is up" "$out/demo.txt" || fail "not up within 60 s"
# What it started: redis-server, two stockd, trgate (and its sleep).
mapfile -t kids < <(pgrep -P "$demo")
started=${#kids[@]}
[ "$started" -ge 4 ] || fail "only $started processes of the cluster found"

t0=$(date +%s%N)
kill -TERM "$demo"
rc=0
for i in $(seq 1 150); do
	kill -0 "$demo" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$demo" 2>/dev/null && fail "still running 15 s after SIGTERM"
wait "$demo" || rc=$?
demo=""
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM, expected 0"
left=0
for p in "${kids[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
[ "$left" -eq 0 ] || fail "$left process(es) of the cluster left running"
echo "stopped in $ms ms, $started processes stopped"
echo "1 passed, 0 failed"
