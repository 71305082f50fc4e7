#!/usr/bin/env bash
# End-to-end throughput in one table: generates deterministic corpora of ~2 KB news-like documents with
# planted copies, stories and threads (`storyline generate --seed 7 --event-size 8`), streams each from
# disk through `storyline dedup` and `storyline cluster` at 1 and 2 threads, and prints documents/s, MB/s,
# per core, peak memory, the speed-up of 2 threads over 1 and the quality against the planted truth:
# pairwise F1 of the duplicate groups, B-cubed F1 of the stories and threads (`storyline eval`).
# Writes bench/results/e2e-DATE.json with the machine it ran on.
# Usage: bench/e2e_bench.sh [SIZES...]      (default: 10000 100000 1000000; needs build/release)
# Environment: COMMANDS="dedup cluster" (which to run), CLUSTER_MAX=1000000 (cluster skips larger
#   corpora, so `bench/e2e_bench.sh 10000000` is the 10M dedup run), JOBS="1 2",
#   STORYLINE_BENCH_DATA=build/bench-data (where corpora are written once and reused; 10M needs 23 GB, and
#   as much again for its annotated output in $TMPDIR; above 1M the kept lines go to /dev/null).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
bin=build/release/storyline
read -r -a commands <<< "${COMMANDS:-dedup cluster}"
read -r -a jobs_list <<< "${JOBS:-1 2}"
cluster_max=${CLUSTER_MAX:-1000000}
data=${STORYLINE_BENCH_DATA:-build/bench-data}
mkdir -p "$data" bench/results
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -x "$bin" ] || { echo "needs $bin (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
json="bench/results/e2e-$(date -u +%Y%m%d).json"
rows=()

# f1 GOLD_FIELD PRED_FIELD METRIC: F1 of one labelling against the corpus' planted one.
f1() {
  "$bin" eval --json --gold "$corpus" --gold-field "$1" --pred "$out/ann.jsonl" --pred-field "$2" |
    sed -E "s/.*\"$3\":\\{[^}]*\"f1\":([0-9.]+).*/\\1/"
}

format='%-8s %10s %4s %8s %10s %7s %10s %9s %8s %8s %7s %7s %7s\n'
# shellcheck disable=SC2059
printf "$format" command documents jobs seconds docs/s MB/s docs/s/core MB/s/core "peak MB" speed-up dup-F1 story-F1 thread-F1
for n in "${sizes[@]}"; do
  corpus="$data/news-$n.jsonl"
  [ -s "$corpus" ] || "$bin" generate -n "$n" --seed 7 --event-size 8 -o "$corpus" 2>/dev/null
  mb=$(stat -c %s "$corpus" | awk '{printf "%.1f", $1 / 1e6}')
  for command in "${commands[@]}"; do
    [ "$command" = cluster ] && [ "$n" -gt "$cluster_max" ] && continue
    one_job_seconds=""
    for jobs in "${jobs_list[@]}"; do
      out=$(mktemp -d)
      if [ "$command" = dedup ]; then
        # Above 1M documents the kept lines go to /dev/null (still selected and written): the input, the
        # annotated copy and the kept copy of 10M documents would need 62 GB of disk.
        kept="$out/kept.jsonl"
        [ "$n" -gt 1000000 ] && kept=/dev/null
        /usr/bin/time -v "$bin" dedup "$corpus" -o "$kept" --annotate "$out/ann.jsonl" --jobs "$jobs" 2> "$out/err"
      else
        /usr/bin/time -v "$bin" cluster "$corpus" -o "$out/ann.jsonl" --jobs "$jobs" 2> "$out/err"
      fi
      seconds=$(grep -oE '[0-9.]+ s, [0-9]+ documents/s' "$out/err" | grep -oE '^[0-9.]+')
      phases=$(sed -n 's/^  phases: //p' "$out/err")
      peak=$(awk '/Maximum resident/ {printf "%.0f", $6 / 1024}' "$out/err")
      [ "$jobs" = 1 ] && one_job_seconds=$seconds
      speedup=$(awk -v a="$one_job_seconds" -v b="$seconds" 'BEGIN{if (a == "") print "-"; else printf "%.2f", a / b}')
      dup=$(f1 label dup_group pairwise)
      story=-; thread=-
      if [ "$command" = cluster ]; then story=$(f1 story story_id bcubed); thread=$(f1 thread thread_id bcubed); fi
      read -r dps mbps dpsc mbpsc < <(awk -v n="$n" -v mb="$mb" -v s="$seconds" -v j="$jobs" \
        'BEGIN{printf "%.0f %.1f %.0f %.1f\n", n/s, mb/s, n/s/j, mb/s/j}')
      # shellcheck disable=SC2059
      printf "$format" "$command" "$n" "$jobs" "$seconds" "$dps" "$mbps" "$dpsc" "$mbpsc" "$peak" "$speedup" "$dup" "$story" "$thread"
      quote() { [ "$1" = - ] && echo null || echo "$1"; }
      rows+=("{\"command\":\"$command\",\"documents\":$n,\"megabytes\":$mb,\"jobs\":$jobs,\"seconds\":$seconds,\"documents_per_s\":$dps,\"mb_per_s\":$mbps,\"documents_per_s_per_core\":$dpsc,\"mb_per_s_per_core\":$mbpsc,\"peak_rss_mb\":$peak,\"speedup_over_1_job\":$(quote "$speedup"),\"duplicates_pairwise_f1\":$dup,\"stories_bcubed_f1\":$(quote "$story"),\"threads_bcubed_f1\":$(quote "$thread"),\"phases\":\"$phases\"}")
      rm -rf "$out"
    done
  done
done
{
  printf '{"bench":"e2e","date":"%s","machine":{"cpu":"%s","cores":%s,"memory":"%s"},' "$stamp" "$cpu" "$(nproc)" "$mem"
  printf '"command":"COMMANDS=\\"%s\\" JOBS=\\"%s\\" bench/e2e_bench.sh %s","results":[' "${commands[*]}" "${jobs_list[*]}" "${sizes[*]}"
  (IFS=,; printf '%s' "${rows[*]}")
  printf ']}\n'
} >> "$json"  # several runs on one day are all kept, one JSON object per line
echo "appended to $json"
