#!/usr/bin/env bash
# Runs the whole test suite, as CI does. As root on a Debian-like machine it
# first installs the tools the tests compare against or drive (tshark,
# tcpdump, tcptrace, iptables, iproute2, rpcbind, zstd, procps for sysctl).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in tshark:tshark tcpdump:tcpdump tcptrace:tcptrace iptables:iptables ip:iproute2 rpcinfo:rpcbind zstd:zstd sysctl:procps; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "== installing: ${need[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "== missing (tests that need them will fail): ${need[*]}" >&2
	fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 30m ./...

echo "== fuzz (${FUZZTIME:=5s} each)"
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | while read -r f; do
	pkg=$(dirname "$f")
	for fn in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | cut -d' ' -f2); do
		echo "-- $pkg $fn"
		# A failing input is written to $pkg/testdata/fuzz and fails the
		# run. A failure that leaves none (the fuzzing engine losing a
		# worker on a loaded machine) is shown and retried once.
		out=$(mktemp)
		if ! go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg" >"$out" 2>&1; then
			tail -20 "$out"
			if [ -n "$(git status --porcelain -- "$pkg/testdata/fuzz" 2>/dev/null)" ]; then rm -f "$out"; exit 1; fi
			echo "-- no failing input written: retrying $pkg $fn"
			go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg" >"$out" 2>&1 || { tail -20 "$out"; rm -f "$out"; exit 1; }
		fi
		rm -f "$out"
	done
done
echo "== all tests passed"
