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
