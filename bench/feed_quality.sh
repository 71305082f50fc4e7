#!/usr/bin/env bash
# Quality of the incremental engine (`storyline stream`, the engine of `serve`) on every labelled
# dataset: each file is fed in date order (undated documents keep their file order), as a live feed
# would see it, into a fresh state, and scored by `storyline eval` like bench/cluster_quality.sh; then
# the two seed articles mixed into timeline17: their story, thread and what that thread holds.
# Usage: bench/feed_quality.sh [DATASETS_DIR] [stream options...]   (needs build/release/storyline, python3)
set -euo pipefail
# shellcheck source=bench/quality_common.sh
source "$(dirname "$0")/quality_common.sh"

by_date() {  # stable sort of a JSONL file by its "date" field, undated lines in place order at the end
  python3 -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
key = lambda i: ((json.loads(lines[i]).get("date") or "~")[:10], i)
sys.stdout.write("".join(lines[i] + "\n" for i in sorted(range(len(lines)), key=key)))' "$1"
}
print_header
run() {  # run NAME FILE LEVEL FIELD
  local start end
  by_date "$2" > "$work/in.jsonl"
  rm -f "$work/state.db"*
  start=$(date +%s.%N)
  "$bin" stream --db "$work/state.db" --sync-normal -q "${extra[@]}" < "$work/in.jsonl" > "$work/out.jsonl"
  end=$(date +%s.%N)
  print_row "$1" "$2" "$3" "$work/out.jsonl" "$4" "$(echo "$end - $start" | bc)"
}
run allsides_neus "$data/allsides_neus/docs.jsonl" story story_id
run ecbplus "$data/ecbplus/docs.jsonl" story story_id
extra+=(--text-field title); run uci_headlines "$data/uci_headlines/docs.jsonl" story story_id; unset "extra[-1]" "extra[-1]"

run timeline17 "$data/timeline17/docs.jsonl" thread thread_id
run ml_crisis_es "$data/ml_crisis_es/docs.jsonl" thread thread_id

# Seeds mixed into timeline17, fed in date order.
cat "$data/timeline17/docs.jsonl" datasets/seeds.jsonl > "$work/mixed.jsonl"
by_date "$work/mixed.jsonl" > "$work/in.jsonl"
rm -f "$work/state.db"*
"$bin" stream --db "$work/state.db" --sync-normal -q "${extra[@]}" < "$work/in.jsonl" > "$work/mixed.out.jsonl"
seeds_report "$work/mixed.out.jsonl"
