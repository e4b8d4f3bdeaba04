#!/usr/bin/env bash
# test_python_example: examples/python/buy.py, a client that has nothing of
# ticketrush but proto/ticketrush.proto, sells through a real stockd and
# Redis on loopback. The messages are generated with protoc into a
# temporary folder; the SP (nng) REQ side is the example's own. A buyer
# gets the one ticket (exit 0, the order printed), buying again with the
# same request id and payment ref gets the same order, a second buyer
# hears sold_out (exit 1), a port nobody listens on gives exit 3, bad
# usage exit 2, and the audit of Redis passes with 1 sold.
# usage: test_python_example.sh BUILD_DIR
# exit 77 (skipped) when protoc or a python3 with python3-protobuf is
# missing (scripts/test installs protobuf-compiler and python3-protobuf).
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib.sh"
fail() { echo "test_python_example: $*" >&2; exit 1; }

# The python3 first on PATH may not be Debian's (pyenv, a venv); Debian's
# python3-protobuf is for /usr/bin/python3.
py=""
for p in ${TR_PYTHON3:-} python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
		"$p" -c 'import google.protobuf' >/dev/null 2>&1; then
		py=$(command -v "$p")
		break
	fi
done
if [ -z "$py" ] || ! command -v protoc >/dev/null 2>&1; then
	echo "test_python_example: needs protoc and a python3 with" \
		"google.protobuf (apt-get install protobuf-compiler" \
		"python3-protobuf): skipped"
	exit 77
fi

work=$(mktemp -d /tmp/trpython.XXXXXX)
trap 'tr_cleanup; rm -rf "$work"' EXIT
mkdir "$work/py"
protoc --proto_path="$root/proto" --python_out="$work/py" \
	"$root/proto/ticketrush.proto" 2>"$work/protoc.log" ||
	{ cat "$work/protoc.log"; fail "protoc failed"; }

rport=$(tr_free_port) dport=$(tr_free_port) aport=$(tr_free_port)
tr_start_redis "$work/redis" "$rport"
tr_spawn "$work/stockd.log" "$build/stockd" --node-id n1 \
	--redis "127.0.0.1:$rport" --listen "tcp://127.0.0.1:$dport" \
	--admin "tcp://127.0.0.1:$aport" >/dev/null
tr_wait_node "$build" "tcp://127.0.0.1:$aport" ||
	{ cat "$work/stockd.log"; fail "stockd did not start"; }
"$build/ticketctl" --url "tcp://127.0.0.1:$aport" event create E \
	--total 1 >/dev/null || fail "cannot create the event"

# buy EXPECTED_EXIT ARGS...: runs the example (bounded: it gives up after
# 3 attempts of 2 s), output in $work/out.
buy() {
	local want=$1 rc=0
	shift
	PYTHONPATH=$work/py PYTHONDONTWRITEBYTECODE=1 timeout 60 \
		"$py" "$root/examples/python/buy.py" "$@" >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] ||
		{ cat "$work/out"; fail "buy.py $*: exit $rc, expected $want"; }
}
url=tcp://127.0.0.1:$dport

buy 0 "$url" E alice PAY-alice
grep -q "^reserved n1\.[0-9a-f]*\.E until [0-9]* (unix ms)$" "$work/out" ||
	{ cat "$work/out"; fail "alice: no hold printed"; }
order=$(sed -n 's/^order \(n1\.[0-9a-f]*\.E\): 1 ticket(s) of E for alice, paid PAY-alice$/\1/p' "$work/out")
[ -n "$order" ] || { cat "$work/out"; fail "alice: no order printed"; }
# The same buyer again: the same request id finds the paid hold, the same
# payment ref confirms it again: the same order, no second ticket.
buy 0 "$url" E alice PAY-alice
grep -qx "order $order: 1 ticket(s) of E for alice, paid PAY-alice" \
	"$work/out" || { cat "$work/out"; fail "alice again: not the same order"; }
buy 1 "$url" E bob PAY-bob
grep -q "^buy: reservation refused: sold_out" "$work/out" ||
	{ cat "$work/out"; fail "bob: not refused sold_out"; }
# Nobody listens there: no answer, after the bounded retries.
buy 3 "tcp://127.0.0.1:$(tr_free_port)" E carol
grep -q "^buy: no answer from" "$work/out" ||
	{ cat "$work/out"; fail "no node: wrong message"; }
# A peer that is not a REP socket (it says REQ), then one that accepts and
# never answers: refused, and given up on in bounded time.
fake() { # PORT HEADER_HEX: serves 10 connections at most, 30 s at most
	tr_spawn "$work/fake.log" timeout 30 "$py" -c '
import socket, sys
s = socket.create_server(("127.0.0.1", int(sys.argv[1])))
for _ in range(10):
    c, _a = s.accept()
    c.settimeout(10)
    c.sendall(bytes.fromhex(sys.argv[2]))
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
' "$@" >/dev/null
	tr_wait_port "$1" 10 || fail "the fake peer did not start"
}
fport=$(tr_free_port)
fake "$fport" 0053500000300000
buy 3 "tcp://127.0.0.1:$fport" E carol
grep -q "protocol 0x0030, not REP v0" "$work/out" ||
	{ cat "$work/out"; fail "a REQ peer: wrong message"; }
fport=$(tr_free_port)
fake "$fport" ""
t0=$(date +%s)
buy 3 "tcp://127.0.0.1:$fport" E carol
grep -q "^buy: no answer from .*: timed out" "$work/out" ||
	{ cat "$work/out"; fail "a silent peer: wrong message"; }
[ $(( $(date +%s) - t0 )) -le 15 ] || fail "a silent peer: not given up on in time"

buy 2
grep -q "^usage: buy.py URL EVENT USER" "$work/out" ||
	{ cat "$work/out"; fail "no usage line"; }
buy 2 "ipc:///tmp/nothing" E carol
buy 2 "tcp://127.0.0.1:99999" E carol

sold=$(redis-cli -p "$rport" GET 'tr:{E}:sold')
[ "$sold" = 1 ] || fail "Redis says $sold sold, expected 1"
"$build/ticketctl" --redis "127.0.0.1:$rport" audit E >"$work/audit" 2>&1 ||
	{ cat "$work/audit"; fail "audit failed"; }
grep -q "^audit of E: total 1, sold 1," "$work/audit" ||
	{ cat "$work/audit"; fail "the audit does not say sold 1"; }
echo "1 passed, 0 failed"
