#!/usr/bin/env bash
# Story and thread quality on every labelled dataset, with the default parameters (or extra options
# given on the command line, e.g. --story-threshold 0.3), scored by `storyline eval`. Also the seeds
# check: the two seed articles mixed into timeline17 must share a thread and not a story. Then the
# same-language pairs of semeval_pairs, language by language (bench/multilingual_quality.py).
# Usage: bench/cluster_quality.sh [DATASETS_DIR] [cluster options...]   (needs build/release/storyline)
set -euo pipefail
# shellcheck source=bench/quality_common.sh
source "$(dirname "$0")/quality_common.sh"

print_header
run() {  # run NAME FILE LEVEL FIELD
  local start end
  start=$(date +%s.%N)
  "${launch[@]}" "$bin" cluster "$2" -o "$work/out.jsonl" -q "${extra[@]}"
  end=$(date +%s.%N)
  print_row "$1" "$2" "$3" "$work/out.jsonl" "$4" "$(echo "$end - $start" | bc)"
}
run allsides_neus "$data/allsides_neus/docs.jsonl" story story_id
run ecbplus "$data/ecbplus/docs.jsonl" story story_id
run uci_headlines "$data/uci_headlines/docs.jsonl" story story_id
run timeline17 "$data/timeline17/docs.jsonl" thread thread_id
run ml_crisis_es "$data/ml_crisis_es/docs.jsonl" thread thread_id

# Seeds mixed into timeline17.
cat "$data/timeline17/docs.jsonl" datasets/seeds.jsonl > "$work/mixed.jsonl"
"${launch[@]}" "$bin" cluster "$work/mixed.jsonl" -o "$work/mixed.out.jsonl" --threads "$work/threads.jsonl" -q "${extra[@]}"
seeds_report "$work/mixed.out.jsonl"

# Languages: story decisions per language on semeval_pairs (needs Python 3; its AUC column, scikit-learn);
# threads across languages: bench/crosslingual_quality.py.
echo
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 bench/multilingual_quality.py "$data" "${extra[@]}"
else
  echo "languages: skipped (bench/multilingual_quality.py needs /usr/bin/python3)"
fi
