#!/usr/bin/env bash
# test_hosts: ticketrush on separate hosts (scripts/hosts: network
# namespaces, a bridge, Redis Cluster of 3 masters + 3 replicas, 4 stockd,
# 2 trgate, the load on a host of its own). $1: the build dir; $2: the case.
#
# gateways: two gateways with different weights (1,2,3,4 and 4,3,2,1) in
#   front of the same four nodes, the load split over both. While stock
#   remains, each gateway's picks per node follow its own weights; the
#   sale sells exactly total (none over), nobody has two tickets, audit
#   passes; after the sell-out each gateway's sold-out cache answers the
#   flood without asking the nodes.
# partition: node4's link goes down during a sale. While cut off it sells
#   nothing (asked directly, on its own host, it refuses), its liveness
#   lapses and another node's sweeper reclaims its lease (its epoch moves
#   on: what it still holds is fenced); the others sell on. After heal it
#   registers again and sells; the sale sells exactly total, audit passes.
# demo: scripts/demo --cluster in small (9 events, 45,000 users, 1,800
#   tickets): every event's verdict passes, and the events are spread
#   three to a master.
#
# Needs root and `ip netns`: exits 77 (skipped) with a reason otherwise.
set -euo pipefail
bin=$(cd "$1" && pwd)
mode=$2
root=$(cd "$(dirname "$0")/.." && pwd)
H="$root/scripts/hosts"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "needs iproute2 (ip netns)"
command -v redis-server >/dev/null || skip "needs redis-server"
ip netns add trh-probe 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del trh-probe

# One topology at a time on this machine (scripts/demo --cluster too).
exec 9>/run/lock/trh.lock 2>/dev/null || exec 9>/tmp/trh.lock
flock -w 600 9 || { echo "FAILED: another scripts/hosts run holds the lock"; exit 1; }
out=$(mktemp -d /tmp/trhosts.XXXXXX)
fail() {
	echo "FAILED: $*"
	for f in /tmp/trh/log/*.stockd.log /tmp/trh/log/*.trgate.log; do
		echo "--- $f"; grep -v '^$' "$f" 2>/dev/null | tail -8 || true
	done
	exit 1
}
trap '"$H" down; rm -rf "$out"' EXIT

redis_seeds=""
load() { "$H" exec load "$bin/trload" --allow-private \
	--target "$("$H" gateways)" --progress off "$@"; }
ctl_redis() { "$H" exec load "$bin/ticketctl" --redis "$redis_seeds" "$@"; }
metrics() {
	"$H" exec load bash -c "exec 3<>/dev/tcp/$("$H" addr "$1")/8080 &&
		printf 'GET /metrics HTTP/1.0\r\nHost: t\r\n\r\n' >&3 &&
		timeout 5 cat <&3"
}
# picks GW: the gateway's picks of n1..n4, space-separated.
picks() {
	local m
	m=$(metrics "$1")
	for i in 1 2 3 4; do
		printf '%s ' "$(printf '%s\n' "$m" |
			awk -v k="trgate_node_picks_total{node=\"n$i\"}" '$1 == k { print $2 }')"
	done
}
metric() { metrics "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
sold() { ctl_redis --json watch "$1" --count 1 | jq -r '.events[0].sold'; }
audit_ok() {
	ctl_redis --json audit "$1" >"$out/audit.json" || true
	jq -e '.ok == true' "$out/audit.json" >/dev/null ||
		{ jq . "$out/audit.json"; fail "audit of $1"; }
}
# Nobody holds two tickets: the event's buyers hash, counted per user.
no_user_twice() {
	local n
	n=$("$H" redis --raw HVALS "tr:{$1}:buyers" | awk '$1 > 1 { n++ } END { print n + 0 }')
	[ "$n" -eq 0 ] || fail "$n users with two tickets in $1"
}

if [ "$mode" = demo ]; then
	# scripts/demo takes the lock itself: give it up.
	exec 9>&-
	"$root/scripts/demo" --cluster --events 9 --users 45000 --tickets 1800 \
		--waiters 180 --bin "$bin" --no-install --out "$out/demo" \
		>"$out/demo.txt" 2>"$out/demo.err" ||
		{ cat "$out/demo.txt"; tail -20 "$out/demo.err"; fail "scripts/demo --cluster"; }
	grep -E '^C[0-9]+ ' "$out/demo.txt"
	jq -e '.pass and .events_passed == 9 and .tickets_sold == 1800 and
		.oversell == 0 and .users_with_two_tickets == 0 and .audit_ok' \
		"$out/demo/verdict.json" >/dev/null || fail "the total verdict"
	for m in redis1 redis2 redis3; do
		[ "$(grep -cE "^C[0-9]+ +$m " "$out/demo.txt")" -eq 3 ] ||
			fail "$m does not serve 3 of the 9 events"
	done
	echo "1 passed, 0 failed"
	exit 0
fi

up_args=(--bin "$bin" --liveness-ttl 2s)
[ "$mode" = gateways ] && up_args+=(--weights1 "1,2,3,4" --weights2 "4,3,2,1")
"$H" up "${up_args[@]}" || fail "scripts/hosts up"
redis_seeds=$("$H" seeds)

case $mode in
gateways)
	E=HG1 total=3000
	"$H" ctl node1 event create $E --total $total --hold 3s >/dev/null
	sleep 0.5
	# 1. Stock remains throughout: every pick is the weighted round-robin.
	load --event $E --users 2000 --abandon 0 --concurrency 32 \
		--tail-seconds 0 --user-prefix a --json "$out/a.json" >/dev/null
	[ "$(sold $E)" -eq 2000 ] || fail "first 2000 buyers: sold $(sold $E)"
	for g in gw1 gw2; do
		w=$(cat /tmp/trh/weights.$g)
		p=$(picks $g)
		echo "$g weights $w picks $p"
		# Each gateway had about half the load, and its own split: each
		# node's share of the picks within 0.03 of weight / sum.
		awk -v w="$w" -v p="$p" 'BEGIN {
			split(w, W, ","); split(p, P, " ")
			for (i = 1; i <= 4; i++) { sw += W[i]; sp += P[i] }
			if (sp < 0.35 * 4000 || sp > 0.65 * 4000) {
				printf "picks %d of ~4000: the load is not split\n", sp; exit 1 }
			for (i = 1; i <= 4; i++) {
				d = P[i] / sp - W[i] / sw
				if (d < -0.03 || d > 0.03) {
					printf "n%d: share %.3f, weight share %.3f\n", i, P[i] / sp, W[i] / sw
					exit 1 }
			}
		}' || fail "$g does not keep its weighted split"
	done
	# 2. The rush past the end: exactly total sold, no oversell.
	load --event $E --users 6000 --abandon 0 --concurrency 32 \
		--user-prefix b --json "$out/b.json" >/dev/null
	s=$(sold $E)
	[ "$s" -eq $total ] || fail "sold $s of $total"
	# 3. The flood after the sell-out: each gateway's cache answers it;
	# the nodes see almost none of it.
	declare -A before_picks before_hits
	for g in gw1 gw2; do
		before_picks[$g]=$(picks $g | awk '{ print $1 + $2 + $3 + $4 }')
		before_hits[$g]=$(metric $g trgate_soldout_cache_hits_total)
	done
	load --event $E --users 4000 --abandon 0 --concurrency 32 \
		--tail-seconds 0 --user-prefix c --json "$out/c.json" >/dev/null
	for g in gw1 gw2; do
		dp=$(( $(picks $g | awk '{ print $1 + $2 + $3 + $4 }') - ${before_picks[$g]} ))
		dh=$(( $(metric $g trgate_soldout_cache_hits_total) - ${before_hits[$g]} ))
		echo "$g flood: cache hits +$dh, node picks +$dp"
		[ "$dh" -ge 1600 ] || fail "$g: its sold-out cache answered $dh of ~2000"
		[ "$dp" -le 200 ] || fail "$g: the nodes were asked $dp times during the flood"
	done
	[ "$(sold $E)" -eq $total ] || fail "sold moved after the sell-out"
	audit_ok $E
	no_user_twice $E
	;;
partition)
	E=HP1 total=4000 victim=node4
	"$H" ctl node1 event create $E --total $total --hold 3s >/dev/null
	sleep 0.5
	load --event $E --users 800 --abandon 0 --concurrency 16 \
		--tail-seconds 0 --user-prefix a >/dev/null
	ev() { "$H" ctl $victim --json event show $E; }
	here0=$(ev | jq -r '.event.sold_here')
	epoch0=$("$H" redis HGET "tr:{$E}:epoch" n4)
	[ "$here0" -gt 0 ] || fail "n4 sold nothing before the cut"
	# The sale goes on in the background while n4 is cut off.
	load --event $E --users 1200 --abandon 0 --concurrency 8 \
		--tail-seconds 0 --user-prefix b >"$out/b.txt" 2>&1 &
	loadpid=$!
	sleep 0.3
	"$H" partition $victim
	cut=$(date +%s%N)
	# Within TTL (2 s) + a sweep (0.5 s) + slack: n4 is down in Redis, its
	# lease is back in the pool and its epoch moved on (the fence).
	ok=0
	for i in $(seq 1 80); do
		w=$(ctl_redis --json watch $E --count 1)
		if printf '%s' "$w" | jq -e '.nodes[] | select(.node == "n4") | .up == false' >/dev/null &&
			printf '%s' "$w" | jq -e '[.events[0].leases[] | select(.node == "n4") | .lease] | (length == 0 or .[0] == 0)' >/dev/null &&
			[ "$("$H" redis HGET "tr:{$E}:epoch" n4)" -gt "$epoch0" ]; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ $ok -eq 1 ] || fail "n4's liveness did not lapse, or its lease was not reclaimed"
	echo "n4 fenced $(( ($(date +%s%N) - cut) / 1000000 )) ms after the cut (epoch $epoch0 -> $("$H" redis HGET "tr:{$E}:epoch" n4))"
	# Cut off, it sells nothing: asked on its own host, it answers (so the
	# check is not a dead socket) and refuses: past its TTL it does not sell.
	here_cut=$(ev | jq -r '.event.sold_here')
	"$H" exec $victim "$bin/ticketctl" --json --timeout 3s \
		--url "tcp://$("$H" addr $victim):7001" reserve $E cutoff-buyer >"$out/cut.txt" 2>&1 || true
	echo "n4 asked to sell while cut off: $(cat "$out/cut.txt")"
	jq -e '.status == "unavailable" and (.detail | test("liveness TTL"))' "$out/cut.txt" >/dev/null ||
		fail "n4 did not refuse as fenced while cut off: $(cat "$out/cut.txt")"
	"$H" ctl $victim --json status | jq -e '.node.coordinator_up == false' >/dev/null ||
		fail "n4 says its coordinator is up while cut off"
	wait $loadpid || fail "the load during the cut failed: $(tail -5 "$out/b.txt")"
	s=$(sold $E)
	[ "$s" -ge 1800 ] || fail "the other nodes did not sell on: sold $s"
	[ "$(ev | jq -r '.event.sold_here')" -eq "$here_cut" ] ||
		fail "n4's sales moved while it was cut off"
	"$H" heal $victim
	# It rejoins: up in Redis, registered again, and the gateways route to it.
	ok=0
	for i in $(seq 1 100); do
		if ctl_redis --json watch $E --count 1 |
			jq -e '.nodes[] | select(.node == "n4") | .up == true' >/dev/null &&
			[ "$(metric gw1 'trgate_node_up{node="n4"}')" = 1 ] &&
			[ "$(metric gw2 'trgate_node_up{node="n4"}')" = 1 ]; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ $ok -eq 1 ] || fail "n4 did not rejoin after heal"
	# The rest of the sale: n4 sells again, and the total is exact.
	load --event $E --users 4000 --abandon 0 --concurrency 16 \
		--user-prefix c >/dev/null
	here2=$(ev | jq -r '.event.sold_here')
	echo "n4 sold here: $here0 before, $here_cut while cut off, $here2 at the end"
	[ "$here2" -gt "$here_cut" ] || fail "n4 sold nothing after heal"
	s=$(sold $E)
	[ "$s" -eq $total ] || fail "sold $s of $total"
	audit_ok $E
	no_user_twice $E
	;;
*) echo "unknown case $mode"; exit 2 ;;
esac
echo "1 passed, 0 failed"
