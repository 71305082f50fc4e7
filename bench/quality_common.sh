# Shared by bench/cluster_quality.sh and bench/feed_quality.sh (sourced, not run): the datasets
# directory, the binary, a work directory, and one table row per scored run.
# Sets: data, bin, launch, work, extra (the remaining arguments); defines score, print_header, print_row,
# seeds_report.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
data=${STORYLINE_DATASETS:-../shared/datasets}
if [ $# -gt 0 ] && [ -d "$1" ]; then data=$1; shift; fi
extra=("$@")
bin=build/release/storyline
# STORYLINE_LAUNCH runs the jobs under a launcher, e.g. "mpirun -np 2 --oversubscribe" (bench/README.md).
read -r -a launch <<< "${STORYLINE_LAUNCH:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$data/timeline17/docs.jsonl" ] || { echo "datasets not found in $data (give the path)" >&2; exit 1; }

score() {  # score GOLD PRED FIELD -> "b3P b3R b3F1 pairP pairR pairF1 clusters"
  "$bin" eval --json --gold "$1" --pred "$2" --pred-field "$3" 2>/dev/null |
    sed -E 's/.*"pred_clusters":([0-9]+).*"pairwise":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\},"bcubed":\{"precision":([0-9.]+),"recall":([0-9.]+),"f1":([0-9.]+)\}.*/\5 \6 \7 \2 \3 \4 \1/'
}
print_header() {
  printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7s\n' dataset level docs clusters "B3 P" "B3 R" "B3 F1" \
    "pair P" "pair R" "pair F1" seconds
}
print_row() {  # print_row NAME GOLD LEVEL PRED FIELD SECONDS
  local bp br bf pp pr pf clusters
  read -r bp br bf pp pr pf clusters < <(score "$2" "$4" "$5")
  printf '%-15s %-7s %6s %8s %8s %8s %8s %8s %8s %8s %7.2f\n' "$1" "$3" "$(wc -l < "$2")" "$clusters" "$bp" "$br" \
    "$bf" "$pp" "$pr" "$pf" "$6"
}
seeds_report() {  # seeds_report ANNOTATED: the seed articles' dup group, story and thread, and what that thread holds
  grep -E '"id": "(000_eaf6071b633d695b|003_1c0d7b70b0890d6f)"' "$1" |
    grep -oE '"(dup_group|story_id|thread_id)":"[^"]*"' | paste -sd' ' | sed 's/^/seeds: /'
  local thread
  thread=$(grep -E '"id": "000_eaf6071b633d695b"' "$1" | grep -oE '"thread_id":"[^"]*"' | cut -d'"' -f4)
  echo "seeds thread $thread holds, by gold timeline17 thread (label: documents):"
  grep -F "\"thread_id\":\"$thread\"" "$1" | grep -oE '"label": "[^"]*"' | sort | uniq -c | sort -rn |
    sed 's/^/  /'
}
