# shellcheck shell=bash disable=SC2154  # sourced by scripts/demo: its flags
# scripts/demo-cluster.sh: the rush of `scripts/demo --cluster`, sourced by
# scripts/demo after its flags (users, tickets, weights, ... are its
# variables). On the hosts of scripts/hosts (network namespaces: a Redis
# Cluster of 3 masters + 3 replicas, 4 stockd, 2 trgate, the load on a
# host of its own), $events events spread evenly over the 3 masters share
# --users and --tickets; each event's buyers come from the load host
# through both gateways (one trload per event, all at once). Prints which
# event is on which master, the verdict per event and in total (the
# single-host verdict's lines, tr_rush_print), and exits non-zero if any
# event's verdict fails.

H="$TR_ROOT/scripts/hosts"
[ "$(id -u)" -eq 0 ] || tr_die "--cluster needs root (network namespaces)"
[ "$nodes" -eq 4 ] || tr_die "--cluster runs 4 stock nodes (scripts/hosts)"
[ $serve -eq 0 ] && [ -z "$kill_at" ] && [ "$quiet" -eq 0 ] ||
	tr_die "--cluster does not take --serve, --kill-node-at or --quiet-events"
[ "$tickets" -ge "$events" ] || tr_die "--tickets must be at least --events"
[ "$users" -ge "$events" ] || tr_die "--users must be at least --events"

# One topology at a time on this machine (the suite's hosts tests too).
exec 9>/run/lock/trh.lock 2>/dev/null || exec 9>/tmp/trh.lock
flock -w 600 9 || tr_die "another scripts/hosts run holds the lock"
trap '"$H" down >/dev/null 2>&1; [ -d /tmp/trh/log ] && cp -r /tmp/trh/log "$out/hosts-log" 2>/dev/null; true' EXIT
trap 'exit 130' INT TERM
tr_log "the hosts: 6 Redis (3 masters + 3 replicas), 4 stockd, 2 trgate, the load (scripts/hosts)"
# Two gateways and four nodes share 2 cores here: one loop per gateway
# unless told otherwise.
[ "$gw_threads_set" -eq 1 ] || gw_threads=1
"$H" up --bin "$bin" --weights1 "$weights" --weights2 "$weights" \
	--liveness-ttl "$ttl" --gw-threads "$gw_threads" ||
	tr_die "scripts/hosts up failed"
seeds=$("$H" seeds)
gws=$("$H" gateways)
tr_redis() { "$H" redis "$@"; }
in_load() { "$H" exec load "$@"; }

# ---- the events, spread over the masters ---------------------------------
# Each master's slot ranges (CLUSTER NODES), then the slot of candidate ids
# C001, C002, ... until each master has its share of the events.
tr_redis CLUSTER NODES | awk '$3 ~ /master/ { split($2, a, ":")
	for (i = 9; i <= NF; i++) { n = split($i, r, "-")
		print a[1], r[1], (n > 1 ? r[2] : r[1]) } }' >"$out/slots.txt"
master_of_ip() {
	local h
	for h in redis1 redis2 redis3; do
		[ "$("$H" addr $h)" = "$1" ] && { echo $h; return; }
	done
}
declare -A want have owner
for i in 1 2 3; do
	want[redis$i]=$(( events / 3 + (i <= events % 3 ? 1 : 0) ))
	have[redis$i]=0
done
ids=()
cands=$(seq -f 'C%03g' 1 $(( events * 20 )))
slots=$(for c in $cands; do echo "CLUSTER KEYSLOT tr:{$c}:meta"; done | tr_redis)
paste <(echo "$cands" | tr ' ' '\n') <(echo "$slots") >"$out/cand.txt"
while read -r c slot; do
	ip=$(awk -v s="$slot" '$2 <= s && s <= $3 { print $1; exit }' "$out/slots.txt")
	m=$(master_of_ip "$ip")
	[ -n "$m" ] && [ "${have[$m]}" -lt "${want[$m]}" ] || continue
	have[$m]=$(( ${have[$m]} + 1 ))
	owner[$c]=$m
	ids+=("$c")
	[ ${#ids[@]} -eq "$events" ] && break
done <"$out/cand.txt"
[ ${#ids[@]} -eq "$events" ] || tr_die "could not spread $events events over the masters"
for m in redis1 redis2 redis3; do
	line=""
	for e in "${ids[@]}"; do [ "${owner[$e]}" = "$m" ] && line+=" $e"; done
	tr_log "master $m ($("$H" addr $m)):$line"
done

# Each event's share of the tickets, users, connections and line.
declare -A etickets
for k in "${!ids[@]}"; do
	etickets[${ids[$k]}]=$(( tickets / events + (k < tickets % events ? 1 : 0) ))
done
eusers=$(( users / events ))
econc=$(( concurrency / events > 2 ? concurrency / events : 2 ))
ewaiters=$(( waiters / events > 1 ? waiters / events : 1 ))
creates=""
for e in "${ids[@]}"; do
	creates+="'$bin/ticketctl' --url tcp://127.0.0.1:7101 event create $e --total ${etickets[$e]} --hold $hold --offer $offer >/dev/null || exit 1; "
done
"$H" exec node1 bash -c "$creates" || tr_die "cannot create the events"
# Every node knows every event before the rush (each from its own host).
for n in node1 node2 node3 node4; do
	a=$("$H" addr $n)
	"$H" exec load bash -c "for e in ${ids[*]}; do for t in \$(seq 1 100); do
		'$bin/ticketctl' --url tcp://$a:7001 event show \$e >/dev/null 2>&1 && break
		sleep 0.05; done; done"
done

node_calls() {
	local total=0 n h
	for h in node1 node2 node3 node4; do
		n=$("$H" ctl $h --json status 2>/dev/null |
			jq -r '.node.coordinator_calls // 0') || n=0
		total=$(( total + ${n:-0} ))
	done
	echo "$total"
}

# ---- the rush: every event at once, from the load host -------------------
calls_before=$(node_calls)
tr_log "the rush: $(( eusers * events )) users, $tickets tickets over $events events (about $eusers users, $(( tickets / events )) tickets, $econc connections each), through $gws"
pids=()
for e in "${ids[@]}"; do
	mkdir -p "$out/events/$e"
	in_load "$bin/trload" --allow-private --target "$gws" --event "$e" \
		--users "$eusers" --user-prefix "u$e-" --concurrency "$econc" \
		--abandon "$abandon" --max-seconds 600 \
		--waitlist-share "$wl_share" --waiters "$ewaiters" --wait 5s \
		--lapse "$lapse" --refund-share "$refund_share" --refund-after 1s \
		--line-seconds 30 --json "$out/events/$e/trload.json" \
		--progress off >"$out/events/$e/trload.txt" 2>&1 &
	pids+=($!)
done
failed=0
for k in "${!pids[@]}"; do
	wait "${pids[$k]}" || { tr_log "trload of ${ids[$k]} failed (see $out/events/${ids[$k]}/trload.txt)"; failed=1; }
done
[ $failed -eq 0 ] || tr_die "the load failed"
calls_after=$(node_calls)

# ---- the verdict, per event, then in total -------------------------------
row='%-6s %-7s %7s %7s %8s %5s %6s %13s %6s %s\n'
printf "\n$row" event master tickets sold oversell twice unsold "load/Redis" audit verdict
for e in "${ids[@]}"; do
	d="$out/events/$e"
	"$H" ctl node1 --json waitlist show "$e" >"$d/waitlist.json" ||
		tr_die "cannot read the waitlist of $e"
	tr_rush_line "$d" "$e" "$bin"
	refunded=$(tr_redis --raw HGET "tr:{$e}:meta" refunded)
	in_load "$bin/ticketctl" --json --redis "$seeds" audit "$e" >"$d/audit.json" || true
	sales=()
	for n in node1 node2 node3 node4; do
		s=$(in_load "$bin/ticketctl" --json --url "tcp://$("$H" addr $n):7001" \
			event show "$e" 2>/dev/null | jq -r '.event.sold_here // "down"') || s=down
		sales+=("$s")
	done
	over=$(tr_redis --raw HVALS "tr:{$e}:buyers" | awk '$1 > 1 { n++ } END { print n + 0 }')
	tr_rush_verdict "$d" "${etickets[$e]}" 0 "$over" "$weights" "${refunded:-0}" \
		"${sales[*]}" ""
	jq -r --arg e "$e" --arg m "${owner[$e]}" '[$e, $m, .scenario.tickets,
		.tickets_sold, .oversell, .users_with_two_tickets,
		.unsold_while_demand_remained, "\(.load_confirmed)/\(.tickets_sold)",
		(if .audit_ok then "ok" else "FAILED" end),
		(if .pass then "PASS" else "FAIL" end)] | @tsv' "$d/verdict.json" |
		while IFS=$'\t' read -r -a f; do printf "$row" "${f[@]}"; done
done

# The total: sums over the events; latencies are the worst event's; the
# rate is all main-phase attempts over the longest main phase (the events
# ran at once).
for e in "${ids[@]}"; do echo "$out/events/$e/verdict.json"; done >"$out/verdicts.txt"
main=$(for e in "${ids[@]}"; do cat "$out/events/$e/trload.json"; done |
	jq -s '{attempts: (map(.verdict.main_attempts) | add),
	        seconds: (map(.verdict.main_seconds) | max)}')
xargs cat <"$out/verdicts.txt" | jq -s --argjson calls $(( calls_after - calls_before )) \
	--argjson main "$main" --argjson events "$events" '
	def sum(f): map(f) | add;
	def worst(f): map(f) | max;
	{
	  scenario: (.[0].scenario + {users: sum(.scenario.users),
	    tickets: sum(.scenario.tickets), concurrency: sum(.scenario.concurrency),
	    waiters: sum(.scenario.waiters), events: $events}),
	  attempts: sum(.attempts),
	  wall_seconds: worst(.wall_seconds),
	  attempts_per_s: (if $main.seconds > 0 then $main.attempts / $main.seconds else 0 end),
	  reserve_latency_us: {p50: worst(.reserve_latency_us.p50),
	    p99: worst(.reserve_latency_us.p99), p99_9: worst(.reserve_latency_us.p99_9)},
	  confirm_latency_us: {p50: worst(.confirm_latency_us.p50),
	    p99: worst(.confirm_latency_us.p99), p99_9: worst(.confirm_latency_us.p99_9)},
	  tickets_sold: sum(.tickets_sold),
	  oversell: sum(.oversell),
	  users_with_two_tickets: sum(.users_with_two_tickets),
	  unsold_while_demand_remained: sum(.unsold_while_demand_remained),
	  sales_per_node: [range(0; .[0].sales_per_node | length) as $i |
	    sum(.sales_per_node[$i] | tonumber? // 0) | tostring],
	  load_confirmed: sum(.load_confirmed),
	  waitlist: {joined: sum(.waitlist.joined), offered: sum(.waitlist.offered),
	    confirmed: sum(.waitlist.confirmed), expired: sum(.waitlist.expired),
	    refunded: sum(.waitlist.refunded),
	    order_violations: sum(.waitlist.order_violations),
	    order_violations_seen_by_load: sum(.waitlist.order_violations_seen_by_load),
	    unsold_while_waiting: sum(.waitlist.unsold_while_waiting),
	    return_to_offer_ms: {count: sum(.waitlist.return_to_offer_ms.count),
	      p50: worst(.waitlist.return_to_offer_ms.p50),
	      p99: worst(.waitlist.return_to_offer_ms.p99)}},
	  redis_commands_sent: $calls,
	  redis_commands_per_attempt: (if sum(.attempts) > 0 then $calls / sum(.attempts) else null end),
	  audit_ok: all(.audit_ok),
	  events_passed: (map(select(.pass)) | length),
	  pass: all(.pass)
	}' >"$out/verdict.json"
printf '\nin total, %s events on 3 masters, load through 2 gateways (latencies, return → offer: the worst event'"'"'s)\n' "$events"
tr_rush_print "$out/verdict.json"
printf '  events passed                 %s of %s\n' \
	"$(jq -r .events_passed "$out/verdict.json")" "$events"
printf '  results                       %s\n' "$out"
jq -e '.pass' "$out/verdict.json" >/dev/null
