#!/usr/bin/env bash
# test_deb: the Debian packages, end to end on this machine. Builds them
# (Release, prefix /usr, cpack -G DEB) from the source tree, checks what
# each holds, installs them with dpkg -i, verifies the installed units,
# runs the demo's cluster from the installed binaries (a private Redis on
# loopback, two stock nodes, the gateway), sells tickets over HTTP, audits
# Redis, builds examples/c against the installed -dev package, and purges
# the packages, leaving the machine as it was.
# usage: test_deb.sh SOURCE_DIR
# exit 77 (skipped) unless root (dpkg -i needs it; CI runs as root).
set -euo pipefail
src=$1
. "$src/scripts/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "test_deb: not root: skipped (CI runs as root)"
	exit 77
fi
for t in cpack dpkg dpkg-shlibdeps help2man curl; do
	command -v "$t" >/dev/null || { echo "test_deb: no $t"; exit 1; }
done
pkgs=(ticketrush libticketrush-dev libticketrush0)
work=$(mktemp -d /tmp/trdeb.XXXXXX)
purge() { dpkg --purge "${pkgs[@]}" >"$work/purge.log" 2>&1; }
trap 'tr_cleanup; purge || cat "$work/purge.log"; rm -rf "$work"' EXIT
fail() { echo "test_deb: $*" >&2; exit 1; }
# A run that died before its purge left them behind: they are this test's.
purge || true

b=$work/build
cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=Release -DTR_TESTS=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr >"$work/cmake.log" 2>&1 ||
	{ cat "$work/cmake.log"; fail "cmake failed"; }
cmake --build "$b" -j"$(nproc)" --target stockd trgate ticketctl \
	ticketrush ticketrush_static man >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; fail "build failed"; }
(cd "$b" && cpack -G DEB) >"$work/cpack.log" 2>&1 ||
	{ cat "$work/cpack.log"; fail "cpack failed"; }
ver=$(sed -n 's/^project(ticketrush VERSION \([0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")
arch=$(dpkg --print-architecture)
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb() { echo "$b/${1}_${ver}_${arch}.deb"; }
for p in "${pkgs[@]}"; do
	[ -f "$(deb "$p")" ] || { ls "$b"/*.deb; fail "no package $p"; }
done

# What each package holds, and what it depends on.
has() { # package path...
	local p=$1 f
	shift
	dpkg-deb -c "$(deb "$p")" | awk '{ print $6 }' >"$work/list"
	for f in "$@"; do
		grep -qx "\./$f" "$work/list" || fail "$p lacks /$f"
	done
}
has ticketrush usr/bin/stockd usr/bin/trgate usr/bin/ticketctl \
	usr/lib/systemd/system/stockd@.service \
	usr/lib/systemd/system/trgate.service etc/ticketrush/stockd.conf \
	etc/ticketrush/stockd-n1.conf etc/ticketrush/trgate.conf \
	usr/share/man/man1/stockd.1.gz usr/share/man/man1/ticketctl.1.gz \
	usr/share/doc/ticketrush/OPERATIONS.md
has libticketrush0 "usr/lib/$multi/libticketrush.so.$ver"
has libticketrush-dev usr/include/ticketrush/tr_client.h \
	usr/include/ticketrush/tr_err.h usr/include/ticketrush/ticketrush.pb-c.h \
	"usr/lib/$multi/libticketrush.a" "usr/lib/$multi/pkgconfig/ticketrush.pc" \
	"usr/lib/$multi/cmake/ticketrush/ticketrushConfig.cmake" \
	usr/share/ticketrush/ticketrush.proto
dpkg-deb -f "$(deb ticketrush)" Depends | grep -q libnng1 ||
	fail "ticketrush does not depend on libnng1"
dpkg-deb -f "$(deb libticketrush-dev)" Depends | grep -q libticketrush0 ||
	fail "libticketrush-dev does not depend on libticketrush0"
dpkg-deb -I "$(deb ticketrush)" conffiles | grep -qx /etc/ticketrush/stockd.conf ||
	fail "the settings are not conffiles"

dpkg -i "$(deb libticketrush0)" "$(deb libticketrush-dev)" \
	"$(deb ticketrush)" >"$work/dpkg.log" 2>&1 ||
	{ cat "$work/dpkg.log"; fail "dpkg -i failed"; }
for p in "${pkgs[@]}"; do
	dpkg -s "$p" | grep -q "^Status: install ok installed" ||
		fail "$p is not installed"
done
stockd --help | grep -q -- "--node-id" || fail "installed stockd has no --help"
man -w stockd >/dev/null 2>&1 || fail "no man page for stockd"

# The installed units verify (ExecStart is the installed binary).
cp /usr/lib/systemd/system/stockd@.service "$work/stockd@n1.service"
systemd-analyze verify /usr/lib/systemd/system/trgate.service \
	"$work/stockd@n1.service" >"$work/verify" 2>&1 && [ ! -s "$work/verify" ] ||
	{ cat "$work/verify"; fail "installed units do not verify"; }

# The demo's cluster, from the installed binaries.
rport=$(tr_free_port)
tr_start_redis "$work/redis" "$rport"
data=() nodes=()
for n in n1 n2; do
	d=$(tr_free_port) a=$(tr_free_port)
	tr_spawn "$work/stockd-$n.log" /usr/bin/stockd --node-id "$n" \
		--redis "127.0.0.1:$rport" --listen "tcp://127.0.0.1:$d" \
		--admin "tcp://127.0.0.1:$a" >/dev/null
	tr_wait_node /usr/bin "tcp://127.0.0.1:$a" ||
		{ cat "$work/stockd-$n.log"; fail "installed stockd did not start"; }
	admin=tcp://127.0.0.1:$a
	data+=("tcp://127.0.0.1:$d")
	nodes+=(--node "$n=tcp://127.0.0.1:$d")
done
ticketctl --url "$admin" event create G1 --total 3 --hold 1m >/dev/null ||
	fail "cannot create the event"
gport=$(tr_free_port)
tr_spawn "$work/trgate.log" /usr/bin/trgate --listen "127.0.0.1:$gport" \
	--threads 1 "${nodes[@]}" >/dev/null
tr_wait_port "$gport" 10 || { cat "$work/trgate.log"; fail "trgate did not start"; }
gw=http://127.0.0.1:$gport
for u in u1 u2 u3; do
	code=$(curl -s -o "$work/r.json" -w '%{http_code}' -X POST \
		"$gw/v1/events/G1/reservations" -d "{\"user\":\"$u\"}")
	[ "$code" = 201 ] || { cat "$work/r.json"; fail "reserve for $u: $code"; }
	rid=$(jq -r .reservation_id "$work/r.json")
	code=$(curl -s -o "$work/c.json" -w '%{http_code}' -X POST \
		"$gw/v1/reservations/$rid/confirm" -d "{\"user\":\"$u\"}")
	[ "$code" = 200 ] || { cat "$work/c.json"; fail "confirm for $u: $code"; }
done
code=$(curl -s -o "$work/r.json" -w '%{http_code}' -X POST \
	"$gw/v1/events/G1/reservations" -d '{"user":"u4"}')
[ "$code" = 409 ] && grep -q sold_out "$work/r.json" ||
	fail "a fourth buyer of three tickets got $code"
ticketctl --redis "127.0.0.1:$rport" audit G1 >"$work/audit" ||
	{ cat "$work/audit"; fail "audit failed"; }
grep -q "total 3, sold 3" "$work/audit" || { cat "$work/audit"; fail "not 3 sold"; }

# A service built against the installed -dev package (no paths given).
cp -r "$src/examples/c" "$work/example"
make -C "$work/example" >"$work/example.log" 2>&1 ||
	{ cat "$work/example.log"; fail "examples/c does not build against the package"; }
ticketctl --url "$admin" event create G2 --total 1 >/dev/null ||
	fail "cannot create G2"
"$work/example/buy" "${data[0]}" G2 alice >"$work/buy" 2>&1 &&
	grep -q "^order n1\..*for alice" "$work/buy" ||
	{ cat "$work/buy"; fail "the example did not sell through the package"; }
tr_cleanup

purge || { cat "$work/purge.log"; fail "dpkg --purge failed"; }
[ ! -e /usr/bin/stockd ] && [ ! -e /etc/ticketrush ] ||
	fail "purge left files behind"
echo "1 passed, 0 failed"
