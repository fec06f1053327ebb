#!/usr/bin/env bash
# Measures wiresleuth against tshark and tcptrace on one large generated
# capture, side by side in one run: wall time, CPU time and peak memory of
#   wiresleuth conv FILE
#   tshark -n -q -z conv,tcp -r FILE
#   tcptrace -n FILE
#   wiresleuth diagnose FILE   (the whole product: TCP analysis, conn records,
#                               application decoding, every detector)
# and prints the ratios. The machines are shared and noisy: each tool runs
# RUNS times (default 3), interleaved, and the best wall and CPU times
# count; compare the ratios, not the absolute times.
# Usage: scripts/bench.sh [SIZE] (default 400MB).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-400MB}
data=bench/data
mkdir -p "$data"
file="$data/bench-$size.pcap"
if [ ! -s "$file" ]; then
	echo "== generating $file"
	go run ./internal/synth/gencap -o "$file" -size "$size" -seed 1
fi
go build -o "$data/wiresleuth" ./cmd/wiresleuth
for t in tshark tcptrace; do command -v $t >/dev/null || { echo "bench: $t not installed" >&2; exit 2; }; done

runs=${RUNS:-3}
measure() { # name cmd...: appends "name wall cpu maxrss_kb" to $data/raw
	local name=$1; shift
	cat "$file" >/dev/null # same page-cache state for every tool
	/usr/bin/time -f "$name %e %U %S %M" -o "$data/time.$name" "$@" >/dev/null 2>"$data/err.$name" || { echo "bench: $name failed:" >&2; cat "$data/err.$name" >&2; exit 1; }
	awk '{printf "%s %.2f %.2f %d\n", $1, $2, $3+$4, $5}' "$data/time.$name" | tee -a "$data/raw"
}
echo "== $(du -h "$file" | cut -f1) $file, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
: >"$data/raw"
for _ in $(seq "$runs"); do
	measure wiresleuth "$data/wiresleuth" conv "$file"
	measure tshark tshark -n -q -z conv,tcp -r "$file"
	measure tcptrace tcptrace -n "$file"
	# diagnose exits 1 when it reports an error finding: not a failure here.
	measure diagnose bash -c '"$@"; test $? -le 1' _ "$data/wiresleuth" diagnose --format json "$file"
done
echo "== best of $runs: tool wall_s cpu_s max_rss_kb"
awk '{ if (!($1 in w) || $2 < w[$1]) w[$1]=$2; if (!($1 in c) || $3 < c[$1]) c[$1]=$3; if ($4 > m[$1]) m[$1]=$4; if (!($1 in o)) o[$1]=n++ }
     END { for (t in o) r[o[t]]=t; for (i=0;i<n;i++) printf "%s %.2f %.2f %d\n", r[i], w[r[i]], c[r[i]], m[r[i]] }' "$data/raw" | tee "$data/results"
awk 'NR==1{w=$2; c=$3; m=$4} NR>1 && $1!="diagnose"{printf "wiresleuth conv is %.1fx faster than %s (wall), %.1fx (cpu), uses %.1fx less memory\n", $2/w, $1, $3/c, $4/m}
     $1=="diagnose"{dw=$2; dc=$3; dm=$4} $1=="tshark"{tw=$2; tc=$3; tm=$4}
     END { if (dw > 0) printf "wiresleuth diagnose is %.1fx faster than tshark conv,tcp (wall), %.1fx (cpu), uses %.1fx less memory\n", tw/dw, tc/dc, tm/dm }' "$data/results"
