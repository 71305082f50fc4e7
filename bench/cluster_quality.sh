#!/usr/bin/env bash
# Story and thread quality on every labelled dataset, with the default parameters (or extra options
# given on the command line, e.g. --story-threshold 0.3), scored by `storyline eval`. Also the seeds
# check: the two seed articles mixed into timeline17 must share a thread and not a story.
# Usage: bench/cluster_quality.sh [DATASETS_DIR] [cluster options...]   (needs build/release/storyline)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${STORYLINE_DATASETS:-../shared/datasets}
if [ $# -gt 0 ] && [ -d "$1" ]; then data=$1; shift; fi
bin=build/release/storyline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$data/timeline17/docs.jsonl" ] || { echo "datasets not found in $data (give the path)" >&2; exit 1; }

score() {  # score GOLD PRED FIELD -> "b3P b3R b3F1 pairP pairR pairF1 clusters"
  "$bin" eval --json --gold "$1" --pred "$2" --pred-field "$3" 2>/dev/null |
    sed -E 's/.*"pred_clusters":([0-9]+).*"pairwise":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\},"bcubed":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\}.*/\5 \6 \7 \2 \3 \4 \1/'
}
printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7s\n' dataset level docs clusters "B3 P" "B3 R" "B3 F1" "pair P" "pair R" "pair F1" seconds
run() {  # run NAME FILE LEVEL FIELD
  local start end
  start=$(date +%s.%N)
  "$bin" cluster "$2" -o "$work/out.jsonl" -q "${extra[@]}"
  end=$(date +%s.%N)
  read -r bp br bf pp pr pf clusters < <(score "$2" "$work/out.jsonl" "$4")
  printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7.2f\n' "$1" "$3" "$(wc -l < "$2")" "$clusters" "$bp" "$br" "$bf" \
    "$pp" "$pr" "$pf" "$(echo "$end - $start" | bc)"
}
extra=("$@")
run allsides_neus "$data/allsides_neus/docs.jsonl" story story_id
run ecbplus "$data/ecbplus/docs.jsonl" story story_id
run uci_headlines "$data/uci_headlines/docs.jsonl" story story_id
run timeline17 "$data/timeline17/docs.jsonl" thread thread_id

# Seeds mixed into timeline17.
cat "$data/timeline17/docs.jsonl" datasets/seeds.jsonl > "$work/mixed.jsonl"
"$bin" cluster "$work/mixed.jsonl" -o "$work/mixed.out.jsonl" --threads "$work/threads.jsonl" -q "${extra[@]}"
grep -E '"id": "(000_eaf6071b633d695b|003_1c0d7b70b0890d6f)"' "$work/mixed.out.jsonl" |
  grep -oE '"(dup_group|story_id|thread_id)":"[^"]*"' | paste -sd' ' | sed 's/^/seeds: /'
thread=$(grep -E '"id": "000_eaf6071b633d695b"' "$work/mixed.out.jsonl" | grep -oE '"thread_id":"[^"]*"' | cut -d'"' -f4)
echo "seeds thread $thread holds, by gold timeline17 thread (label: documents):"
grep -F "\"thread_id\":\"$thread\"" "$work/mixed.out.jsonl" | grep -oE '"label": "[^"]*"' | sort | uniq -c | sort -rn |
  sed 's/^/  /'
