#!/usr/bin/env bash
# test_units: the systemd units as this build would install them, pointed
# at this build's binaries, pass `systemd-analyze verify` (syntax, the
# binaries exist, the man pages named in Documentation= exist), carry the
# settings file, restart policy, graceful stop and hardening that
# docs/OPERATIONS.md promises, and stay at an exposure of 2.2 or less in
# `systemd-analyze security`. stockd@.service is checked as the instance
# stockd@n1.
# usage: test_units.sh UNIT_DIR MAN_DIR
# exit 77 (skipped) without systemd-analyze.
set -euo pipefail
units=$1
mans=$2
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze"; exit 77; }
work=$(mktemp -d /tmp/trunits.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$units/trgate.service" "$work/trgate.service"
cp "$units/stockd@.service" "$work/stockd@n1.service"
man=(--man=no)
if ls "$mans"/*.1 >/dev/null 2>&1; then
	mkdir -p "$work/man/man1"
	cp "$mans"/*.1 "$work/man/man1/"
	export MANPATH=$work/man
	man=()
fi
for u in trgate.service stockd@n1.service; do
	if ! systemd-analyze verify "${man[@]}" "$work/$u" >"$work/log" 2>&1 ||
		[ -s "$work/log" ]; then
		echo "systemd-analyze verify $u:"; cat "$work/log"
		exit 1
	fi
	for want in '^EnvironmentFile=/' '^Restart=on-failure$' \
		'^KillSignal=SIGTERM$' '^DynamicUser=yes$' \
		'^ProtectSystem=strict$' '^NoNewPrivileges=yes$' \
		'^ProtectHome=yes$' '^PrivateTmp=yes$'; do
		grep -q "$want" "$work/$u" || { echo "$u lacks $want"; exit 1; }
	done
	if ! systemd-analyze security --offline=true --threshold=22 \
		"$work/$u" >"$work/sec" 2>&1; then
		echo "systemd-analyze security $u: exposure above 2.2"
		tail -3 "$work/sec"
		exit 1
	fi
	tail -1 "$work/sec"
done
echo "1 passed, 0 failed"
