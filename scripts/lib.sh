# scripts/lib.sh: shared shell helpers for ticketrush's scripts (sourced).
# Everything started here is recorded and stopped by tr_cleanup, which the
# scripts install as an EXIT/INT/TERM trap.

TR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TR_PIDS=()

tr_log() { printf '%s\n' "$*" >&2; }
tr_die() { tr_log "error: $*"; exit 1; }

# The Debian packages every part of ticketrush needs to build, test and run.
TR_PACKAGES="build-essential cmake pkg-config libnng-dev libprotobuf-c-dev
protobuf-c-compiler libhiredis-dev libcmocka-dev redis-server
libh2o-evloop-dev libcjson-dev wrk apache2-utils nginx-light jq iproute2"
# The fuzz harnesses (tests/fuzz): clang, libFuzzer's runtime
# (libclang_rt.fuzzer) and llvm-symbolizer for readable reports.
TR_FUZZ_PACKAGES="clang libclang-rt-14-dev llvm-14"

# Install what is missing (as root), or print the exact apt-get line.
tr_install_packages() {
	local missing=() p
	for p in $TR_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		tr_die "missing packages; run: sudo apt-get install -y ${missing[*]}"
	fi
	tr_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || tr_die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null || tr_die "apt-get install ${missing[*]} failed"
	# Debian starts these services on install; ours run privately.
	for p in redis-server nginx; do
		if command -v systemctl >/dev/null 2>&1; then
			systemctl stop "$p" >/dev/null 2>&1 || true
		fi
	done
}

# Sanitizer settings for runs of the ASan builds: every finding fails, a
# leak included. What a library we link leaks by design is suppressed in
# tests/lsan.supp, each entry with its reason. Settings the caller exported
# win.
tr_sanitizer_env() {
	local lsan="suppressions=$TR_ROOT/tests/lsan.supp:print_suppressions=0"
	local ubsan="print_stacktrace=1:halt_on_error=1"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-$lsan}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-$ubsan}
}

# Build type ($1: Release or Debug) into build dir ($2); extra cmake args.
# TR_BUILD_TARGET, if set, builds only that target.
tr_build() {
	local type=$1 dir=$2
	shift 2
	cmake -S "$TR_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" \
		>"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log"; tr_die "cmake failed"; }
	cmake --build "$dir" -j"$(nproc)" \
		${TR_BUILD_TARGET:+--target "$TR_BUILD_TARGET"} \
		>"$dir.build.log" 2>&1 ||
		{ tail -50 "$dir.build.log"; tr_die "build failed"; }
}

tr_free_port() {
	python3 - <<'PY' 2>/dev/null || shuf -i 20000-60000 -n 1
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# Wait until TCP port $1 on 127.0.0.1 accepts (at most $2 seconds).
tr_wait_port() {
	local i
	for i in $(seq 1 $(( ${2:-5} * 20 ))); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Start a background process, logging to $1; the rest is the command.
tr_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	TR_PIDS+=($!)
	echo $!
}

# A private redis-server with AOF in $1 (dir), port in $2.
# fsync policy $3: always (default) or everysec.
tr_start_redis() {
	local dir=$1 port=$2 fsync=${3:-always}
	mkdir -p "$dir"
	tr_spawn "$dir/redis.log" redis-server --port "$port" \
		--bind 127.0.0.1 --dir "$dir" --appendonly yes \
		--appendfsync "$fsync" --save "" --daemonize no >/dev/null
	tr_wait_port "$port" 10 || tr_die "redis-server did not start ($dir/redis.log)"
}

# Wait until a stock node answers on its admin URL ($2), binary dir $1.
tr_wait_node() {
	local bin=$1 admin=$2 i
	for i in $(seq 1 100); do
		"$bin/ticketctl" --url "$admin" --timeout 500ms status \
			>/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# Stop everything this script started (TERM, then KILL after 5 s).
tr_cleanup() {
	local pid i
	for pid in "${TR_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		local alive=0
		for pid in "${TR_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for pid in "${TR_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	TR_PIDS=()
}

# ratio A B: A/B with 2 decimals.
tr_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# json_field FILE|STRING KEY: a number from a flat JSON object.
tr_json_num() { printf '%s' "$1" | grep -o "\"$2\":[0-9.]*" | head -1 | cut -d: -f2; }

# The confirm ceiling: redis-benchmark running EVALSHA of the very confirm
# script the nodes load, on the Redis at port $1, over $2 live holds of a
# fake node "bn" in event $3 (a new event id per call). The holds are
# written directly (not published in tr:{#}:events, so no node sweeps them),
# so that every EVALSHA runs the confirm script on a live hold: its
# checks, its writes and the XADD. redis-benchmark's __rand_int__ names
# the hold; it repeats some, which then take the cheaper path of a
# repeated confirm: the ceiling is if anything too high. Every occurrence
# of __rand_int__ draws its own number, so the holds share one buyer "u"
# (limit out of reach) and none is indexed by user: the index costs a
# real confirm one HGET and one HDEL more than these. Prints confirms per
# second; fails if the calls failed (failing calls are fast: the ceiling
# would be a lie).
tr_confirm_ceiling() {
	local port=$1 n=$2 ev=$3 from expires sha out orders
	local rcli=(redis-cli -p "$port")
	expires=$(( ($(date +%s) + 3600) * 1000 ))
	"${rcli[@]}" HSET "tr:{$ev}:meta" total "$n" limit_per_user 100000000 \
		hold_ms 3600000 opens_at_ms 0 broken 0 >/dev/null
	"${rcli[@]}" MSET "tr:{$ev}:pool" 0 "tr:{$ev}:sold" 0 \
		"tr:{$ev}:held" "$n" >/dev/null
	"${rcli[@]}" HSET "tr:{$ev}:epoch" bn 1 >/dev/null
	local make_holds='for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local rid = string.format("bn.%012d", i)
  redis.call("HSET", KEYS[1], rid, cjson.encode({u = "u", q = 1, n = "bn",
    e = 1, x = tonumber(ARGV[3]), r = "", s = "H", t = 0}))
  redis.call("ZADD", KEYS[2], ARGV[3], rid)
end'
	for from in $(seq 0 20000 $(( n - 1 ))); do
		"${rcli[@]}" EVAL "$make_holds" 2 "tr:{$ev}:holds" \
			"tr:{$ev}:deadlines" "$from" $(( from + 19999 )) "$expires" \
			>/dev/null
	done
	# The script as the nodes load it: common.lua, then the event script
	# (cmake/embed_lua.cmake joins them the same way).
	local lua="$TR_ROOT/lib/coord/lua" keys=() k
	sha=$("${rcli[@]}" SCRIPT LOAD "$(cat "$lua/common.lua" "$lua/confirm.lua")")
	# Every key of an event, in common.lua's order.
	for k in meta pool sold held lease epoch buyers orders stream holds \
		deadlines uholds reqs ended nheld line lent lended llog; do
		keys+=("tr:{$ev}:$k")
	done
	out=$(redis-benchmark -p "$port" -c 50 -P 16 -n "$n" -r "$n" -q \
		EVALSHA "$sha" "${#keys[@]}" "${keys[@]}" bn "$ev" 1 \
		bn.__rand_int__ u pay 2>&1 | tr '\r' '\n' |
		grep -i 'requests per second' | tail -1) ||
		tr_die "redis-benchmark of the confirm script failed"
	# -r draws with repeats: about 63% of the holds get an order. Far
	# fewer means the calls failed.
	orders=$("${rcli[@]}" HLEN "tr:{$ev}:orders")
	[ "$orders" -ge $(( n / 2 )) ] ||
		tr_die "the confirm ceiling's calls failed: $orders orders of $n holds"
	printf '%s\n' "$out" | grep -o '[0-9.]* requests per second' |
		cut -d' ' -f1 | cut -d. -f1
}

# The waitlist as Redis recorded it, for event $2, into folder $1: every
# offer in the order made (the llog stream: join number, when the ticket
# came back, when it was offered) and every entry (the lent hash), checked
# by trload line-check ($3: the binaries): order violations,
# return-to-offer times. The caller defines tr_redis, redis-cli pointed at
# the event's Redis (or cluster). Writes line-log.json, line-check.json.
tr_rush_line() {
	local out=$1 event=$2 bin=$3
	tr_redis --json XRANGE "tr:{$event}:llog" - + >"$out/llog.json"
	tr_redis --json HGETALL "tr:{$event}:lent" >"$out/lent.json"
	jq -n --slurpfile l "$out/llog.json" --slurpfile e "$out/lent.json" '{
		offers: ($l[0] | map(.[1] | [range(0; length; 2) as $i |
			{(.[$i]): .[$i + 1]}] | add | {seq: (.seq | tonumber),
			ret_ms: (.ret_ms | tonumber), offer_ms: (.offer_ms | tonumber)})),
		entries: ($e[0] | to_entries | map(.value | fromjson |
			{seq: .q, state: .s, offer: (.o // ""), t_ms: .t}))}' \
		>"$out/line-log.json" || tr_die "cannot read the waitlist from Redis"
	"$bin/trload" line-check --log "$out/line-log.json" >"$out/line-check.json" ||
		tr_die "trload line-check failed"
}

# The rush's verdict, as scripts/demo prints it, from the files a run left
# in $1: trload.json, audit.json (ticketctl --json audit), waitlist.json
# (ticketctl --json waitlist show) and line-check.json (trload
# line-check). $2 tickets, $3 Redis commands the nodes sent, $4 users with
# two tickets (from Redis), $5 the weights, $6 refunds (Redis), $7 sales per
# node (space-separated), $8 seconds at which a node was killed, or "".
# Writes $1/verdict.json; .pass says whether every invariant held.
tr_rush_verdict() {
	local out=$1 tickets=$2 calls=$3 redis_buyers_over=$4 weights=$5
	local refunded=$6 sales=$7 kill_at=$8
	jq -n \
		--slurpfile load "$out/trload.json" \
		--slurpfile audit "$out/audit.json" \
		--argjson tickets "$tickets" --argjson calls "$calls" \
		--argjson over "$redis_buyers_over" --arg weights "$weights" \
		--slurpfile wl "$out/waitlist.json" --slurpfile lc "$out/line-check.json" \
		--argjson refunded "$refunded" \
		--arg sales "$sales" --arg killed "$kill_at" '
		($load[0]) as $l | ($audit[0]) as $a |
		($wl[0].waitlist // {}) as $w | ($lc[0]) as $c | ($l.line // {}) as $t |
		($l.verdict.attempts) as $att |
		{
		  scenario: {users: $l.config.users, tickets: $tickets,
		             weights: ($weights | split(",") | map(tonumber)),
		             concurrency: $l.config.concurrency, abandon: $l.config.abandon,
		             waitlist_share: $l.config.waitlist_share,
		             waiters: $l.config.waiters, lapse: $l.config.lapse,
		             refund_share: $l.config.refund_share,
		             killed_node_at_s: (if $killed == "" then null else ($killed | tonumber) end)},
		  attempts: $att,
		  wall_seconds: $l.wall_seconds,
		  attempts_per_s: $l.verdict.attempts_per_s,
		  reserve_latency_us: ($l.ops.reserve.latency_us | {p50, p99, p99_9}),
		  confirm_latency_us: ($l.ops.confirm.latency_us | {p50, p99, p99_9}),
		  tickets_sold: $a.sold,
		  oversell: ([$a.sold - $tickets, 0] | max),
		  users_with_two_tickets: $over,
		  unsold_while_demand_remained: $l.verdict.tickets_left_unsold_while_demand_remained,
		  sales_per_node: ($sales | split(" ")),
		  load_confirmed: (($l.verdict.confirmed + ($t.confirmed // 0)) -
		                   ($t.refunded // 0)),
		  waitlist: {
		    joined: ($w.joined // 0), offered: ($w.offered // 0),
		    confirmed: ($w.confirmed // 0), expired: ($w.expired // 0),
		    left: ($w.left // 0), skipped: ($w.skipped // 0),
		    waiting_at_end: ($w.waiting // 0), offers_live: ($w.offers_live // 0),
		    refunded: $refunded,
		    order_violations: $c.order_violations,
		    first_violation: $c.first_violation,
		    order_violations_seen_by_load: $t.order_violations,
		    unsold_while_waiting: ([($t.unsold_while_waiting // 0),
		      (if ($w.waiting // 0) > 0 then $a.pool + $a.leases else 0 end)]
		      | max),
		    return_to_offer_ms: $c.return_to_offer_ms,
		    load: {joined: ($t.joined // 0), offers_seen: ($t.offered // 0),
		           confirmed: ($t.confirmed // 0), lapsed: ($t.lapsed // 0),
		           left: ($t.left // 0), refunded: ($t.refunded // 0),
		           line_stopped_by: ($t.stopped_by // "")}
		  },
		  redis_commands_sent: $calls,
		  redis_commands_per_attempt: (if $att > 0 then ($calls / $att) else null end),
		  audit_ok: $a.ok,
		  audit_checks: $a.checks
		} | . + {pass: (.oversell == 0 and .users_with_two_tickets == 0 and
		               .unsold_while_demand_remained == 0 and .audit_ok == true and
		               .tickets_sold == $tickets and .load_confirmed == .tickets_sold and
		               .waitlist.order_violations == 0 and
		               .waitlist.order_violations_seen_by_load == 0 and
		               .waitlist.unsold_while_waiting == 0)}
		' >"$out/verdict.json"
}

# Print the verdict in $1 (tr_rush_verdict's JSON) as the demo does.
tr_rush_print() {
	jq -r '
		def us: if . == null then "-" elif . >= 1000 then "\(. / 1000 * 100 | round / 100) ms" else "\(.) us" end;
		"",
		"the rush: \(.scenario.users) users, \(.scenario.tickets) tickets, weights \(.scenario.weights | map(tostring) | join(","))",
		"  attempts                      \(.attempts) in \(.wall_seconds * 100 | round / 100) s",
		"  attempts/s (main phase)       \(.attempts_per_s | round)",
		"  reserve p50/p99/p99.9         \(.reserve_latency_us.p50 | us) / \(.reserve_latency_us.p99 | us) / \(.reserve_latency_us.p99_9 | us)",
		"  confirm p50/p99/p99.9         \(.confirm_latency_us.p50 | us) / \(.confirm_latency_us.p99 | us) / \(.confirm_latency_us.p99_9 | us)",
		"  tickets sold                  \(.tickets_sold) of \(.scenario.tickets)",
		"  oversell                      \(.oversell)",
		"  users with two tickets        \(.users_with_two_tickets)",
		"  unsold while demand remained  \(.unsold_while_demand_remained)",
		"  load confirmed / Redis sold   \(.load_confirmed) / \(.tickets_sold) (refunds netted)",
		(if .scenario.waitlist_share > 0 or .scenario.refund_share > 0 then
		"  waitlist: buyers who joined   \(.waitlist.joined)",
		"  offers made / confirmed       \(.waitlist.offered) / \(.waitlist.confirmed) (\(.waitlist.expired) expired, \(.waitlist.refunded) refunds fed the line)",
		"  order violations              \(.waitlist.order_violations)",
		"  unsold while line not empty   \(.waitlist.unsold_while_waiting)",
		"  return → offer p50 / p99      \(if .waitlist.return_to_offer_ms.count > 0 then "\(.waitlist.return_to_offer_ms.p50) ms / \(.waitlist.return_to_offer_ms.p99) ms" else "- (no offers)" end)"
		else "  waitlist                      off (--no-waitlist)" end),
		"  sales per node                \(.sales_per_node | join(" / "))",
		"  Redis commands per attempt    \(.redis_commands_per_attempt * 10000 | round / 10000)",
		"  audit                         \(if .audit_ok then "passed" else "FAILED" end)",
		"  verdict                       \(if .pass then "PASS" else "FAIL" end)"
		' "$1"
}
