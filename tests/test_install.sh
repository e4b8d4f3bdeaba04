#!/usr/bin/env bash
# test_install: `cmake --install` of this build into a temporary prefix,
# then examples/c built OUT OF TREE against what was installed, once with
# pkg-config (examples/c/Makefile) and once with find_package
# (examples/c/CMakeLists.txt); each build sells a ticket through a real
# stockd and Redis on loopback, and a second buyer of the one-ticket event
# hears "sold_out". Also checks the installed tree: headers, the library's
# soname and exports, man pages, units, settings.
# usage: test_install.sh BUILD_DIR SANITIZE(ON|OFF)
set -euo pipefail
build=$1
sanitize=${2:-OFF}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lib.sh"
work=$(mktemp -d /tmp/trinstall.XXXXXX)
trap 'tr_cleanup; rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "test_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "cmake --install failed"; }
for f in include/ticketrush/tr_client.h include/ticketrush/tr_err.h \
	include/ticketrush/ticketrush.pb-c.h lib/libticketrush.a \
	lib/pkgconfig/ticketrush.pc lib/cmake/ticketrush/ticketrushConfig.cmake \
	share/ticketrush/ticketrush.proto bin/stockd bin/trgate bin/ticketctl \
	etc/ticketrush/stockd.conf lib/systemd/system/stockd@.service; do
	[ -e "$prefix/$f" ] || fail "$f was not installed"
done
soname=$(objdump -p "$prefix/lib/libticketrush.so" | awk '/SONAME/ { print $2 }')
[ "$soname" = libticketrush.so.0 ] || fail "soname is '$soname'"
# The ABI is the public API: the envelopes and the rest stay inside.
nm -D --defined-only "$prefix/lib/libticketrush.so" |
	grep -q ' tr_client_reserve@@TICKETRUSH_0$' || fail "tr_client_reserve not exported"
if nm -D --defined-only "$prefix/lib/libticketrush.so" | grep -q ' tr_msg_pack'; then
	fail "an internal symbol (tr_msg_pack) is exported"
fi
# Nothing was written outside the prefix: the units name its binaries.
grep -q "ExecStart=.*/stockd " "$prefix/lib/systemd/system/stockd@.service" ||
	fail "unit without ExecStart"

# A sanitized library needs its runtime in whatever links it.
flags=""
[ "$sanitize" = ON ] && flags="-fsanitize=address,undefined"

# pkg-config, out of tree.
cp -r "$root/examples/c" "$work/pc"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -C "$work/pc" \
	CFLAGS="-O1 -Wall -Wextra -Werror $flags" LDFLAGS="$flags" \
	>"$work/pc.log" 2>&1 || { cat "$work/pc.log"; fail "pkg-config build failed"; }
# find_package, out of tree.
cmake -S "$root/examples/c" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
	>"$work/cm.log" 2>&1 && cmake --build "$work/cm" >>"$work/cm.log" 2>&1 ||
	{ cat "$work/cm.log"; fail "find_package build failed"; }

# A real node to sell through: Redis, stockd (the installed one), an event
# of two tickets.
rport=$(tr_free_port) dport=$(tr_free_port) aport=$(tr_free_port)
tr_start_redis "$work/redis" "$rport"
tr_spawn "$work/stockd.log" "$prefix/bin/stockd" --node-id n1 \
	--redis "127.0.0.1:$rport" --listen "tcp://127.0.0.1:$dport" \
	--admin "tcp://127.0.0.1:$aport" >/dev/null
tr_wait_node "$prefix/bin" "tcp://127.0.0.1:$aport" ||
	{ cat "$work/stockd.log"; fail "stockd did not start"; }
"$prefix/bin/ticketctl" --url "tcp://127.0.0.1:$aport" event create E1 \
	--total 2 >/dev/null || fail "cannot create the event"

sell() { # $1 binary, $2 user
	LD_LIBRARY_PATH=$prefix/lib "$1" "tcp://127.0.0.1:$dport" E1 "$2" \
		"PAY-$2" >"$work/out" 2>&1
}
sell "$work/pc/buy" alice || { cat "$work/out"; fail "pkg-config build did not sell"; }
grep -q "^order n1\.[0-9a-f]*\.E1: 1 ticket(s) of E1 for alice, paid PAY-alice" \
	"$work/out" || { cat "$work/out"; fail "pkg-config build: no order"; }
sell "$work/cm/buy" bob || { cat "$work/out"; fail "find_package build did not sell"; }
grep -q "for bob, paid PAY-bob" "$work/out" || { cat "$work/out"; fail "find_package build: no order"; }
# The third buyer: the library passes the node's refusal on, exit 1.
rc=0
sell "$work/cm/buy" carol || rc=$?
[ $rc -eq 1 ] && grep -q "sold_out" "$work/out" ||
	{ cat "$work/out"; fail "third buyer: exit $rc, expected sold_out"; }
sold=$(redis-cli -p "$rport" GET 'tr:{E1}:sold')
[ "$sold" = 2 ] || fail "Redis says $sold sold, expected 2"
"$prefix/bin/ticketctl" --redis "127.0.0.1:$rport" audit E1 >"$work/audit" ||
	{ cat "$work/audit"; fail "audit failed"; }
echo "1 passed, 0 failed"
