#!/usr/bin/env bash
# End-to-end throughput: generates deterministic corpora of ~2 KB documents with planted copies, runs
# `storyline dedup` (or, with COMMAND=cluster, `storyline cluster`: duplicates, stories and threads) at
# 1 and 2 threads, and prints documents/s, MB/s, per core, peak memory and the duplicate groups' quality
# against the planted truth. Writes bench/results/COMMAND-DATE.json with the machine it ran on.
# Usage: [COMMAND=dedup|cluster] bench/dedup_bench.sh [SIZES...]
#        (default: 10000 100000 1000000; needs build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
bin=build/release/storyline
command=${COMMAND:-dedup}
case "$command" in dedup | cluster) ;; *) echo "COMMAND is dedup or cluster" >&2; exit 1 ;; esac
data=${STORYLINE_BENCH_DATA:-build/bench-data}
mkdir -p "$data" bench/results
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
json="bench/results/$command-$(date -u +%Y%m%d).json"
rows=()

printf '%-9s %4s %8s %11s %8s %11s %13s %9s %7s\n' docs jobs seconds docs/s MB/s "docs/s/core" "MB/s/core" "peak MB" "pair F1"
for n in "${sizes[@]}"; do
  corpus="$data/corpus-$n.jsonl"
  [ -s "$corpus" ] || "$bin" generate -n "$n" --seed 7 -o "$corpus" 2>/dev/null
  mb=$(stat -c %s "$corpus" | awk '{printf "%.1f", $1 / 1e6}')
  for jobs in 1 2; do
    out=$(mktemp -d)
    if [ "$command" = dedup ]; then
      /usr/bin/time -v "$bin" dedup "$corpus" -o "$out/kept.jsonl" --annotate "$out/ann.jsonl" --jobs "$jobs" \
        2> "$out/err"
    else
      /usr/bin/time -v "$bin" cluster "$corpus" -o "$out/ann.jsonl" --jobs "$jobs" 2> "$out/err"
    fi
    seconds=$(grep -oE '[0-9.]+ s, ' "$out/err" | grep -oE '[0-9.]+')
    peak=$(awk '/Maximum resident/ {printf "%.0f", $6 / 1024}' "$out/err")
    f1=$("$bin" eval --json --gold "$corpus" --pred "$out/ann.jsonl" |
         sed -E 's/.*"pairwise":\{[^}]*"f1":([0-9.]+).*/\1/')
    read -r dps mbps dpsc mbpsc < <(awk -v n="$n" -v mb="$mb" -v s="$seconds" -v j="$jobs" \
      'BEGIN{printf "%.0f %.1f %.0f %.1f\n", n/s, mb/s, n/s/j, mb/s/j}')
    printf '%-9s %4s %8s %11s %8s %11s %13s %9s %7s\n' "$n" "$jobs" "$seconds" "$dps" "$mbps" "$dpsc" "$mbpsc" "$peak" "$f1"
    rows+=("{\"documents\":$n,\"megabytes\":$mb,\"jobs\":$jobs,\"seconds\":$seconds,\"documents_per_s\":$dps,\"mb_per_s\":$mbps,\"documents_per_s_per_core\":$dpsc,\"mb_per_s_per_core\":$mbpsc,\"peak_rss_mb\":$peak,\"pairwise_f1\":$f1}")
    rm -rf "$out"
  done
done
{
  printf '{"bench":"%s","date":"%s","machine":{"cpu":"%s","cores":%s,"memory":"%s"},' "$command" "$stamp" "$cpu" "$(nproc)" "$mem"
  printf '"command":"COMMAND=%s bench/dedup_bench.sh %s","results":[' "$command" "${sizes[*]}"
  (IFS=,; printf '%s' "${rows[*]}")
  printf ']}\n'
} > "$json"
echo "wrote $json"
