#!/usr/bin/env bash
# Quality of the incremental engine (`storyline stream`, the engine of `serve`) on every labelled
# dataset: each file is fed in date order (undated documents keep their file order), as a live feed
# would see it, into a fresh state, and scored by `storyline eval` like bench/cluster_quality.sh.
# Usage: bench/feed_quality.sh [DATASETS_DIR] [stream options...]   (needs build/release/storyline, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${STORYLINE_DATASETS:-../shared/datasets}
if [ $# -gt 0 ] && [ -d "$1" ]; then data=$1; shift; fi
bin=build/release/storyline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$data/timeline17/docs.jsonl" ] || { echo "datasets not found in $data (give the path)" >&2; exit 1; }

by_date() {  # stable sort of a JSONL file by its "date" field, undated lines in place order at the end
  python3 -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
key = lambda i: ((json.loads(lines[i]).get("date") or "~")[:10], i)
sys.stdout.write("".join(lines[i] + "\n" for i in sorted(range(len(lines)), key=key)))' "$1"
}
score() {  # score GOLD PRED FIELD -> "b3P b3R b3F1 pairP pairR pairF1 clusters"
  "$bin" eval --json --gold "$1" --pred "$2" --pred-field "$3" 2>/dev/null |
    sed -E 's/.*"pred_clusters":([0-9]+).*"pairwise":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\},"bcubed":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\}.*/\5 \6 \7 \2 \3 \4 \1/'
}
printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7s\n' dataset level docs clusters "B3 P" "B3 R" "B3 F1" "pair P" "pair R" "pair F1" seconds
run() {  # run NAME FILE LEVEL FIELD
  local start end
  by_date "$2" > "$work/in.jsonl"
  rm -f "$work/state.db"*
  start=$(date +%s.%N)
  "$bin" stream --db "$work/state.db" --sync-normal -q "${extra[@]}" < "$work/in.jsonl" > "$work/out.jsonl"
  end=$(date +%s.%N)
  read -r bp br bf pp pr pf clusters < <(score "$2" "$work/out.jsonl" "$4")
  printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7.2f\n' "$1" "$3" "$(wc -l < "$2")" "$clusters" "$bp" "$br" "$bf" \
    "$pp" "$pr" "$pf" "$(echo "$end - $start" | bc)"
}
extra=("$@")
run allsides_neus "$data/allsides_neus/docs.jsonl" story story_id
run ecbplus "$data/ecbplus/docs.jsonl" story story_id
extra+=(--text-field title); run uci_headlines "$data/uci_headlines/docs.jsonl" story story_id; unset "extra[-1]" "extra[-1]"

run timeline17 "$data/timeline17/docs.jsonl" thread thread_id
