#!/usr/bin/env bash
# Copies a reader sees (issue 18): quality per kind of copy and what the boilerplate filter and the
# containment test cost.
# 1. Quality: `generate --reader-copies` from timeline17 (full articles; the defaults were chosen on it)
#    and allsides_neus (short leads; not tuned on), two seeds each, plus the classic planted copies
#    (`generate --source timeline17`, and synthetic): pairwise precision/recall/F1 and the share of each
#    kind joined to its original, for the old rule (--containment 0 --boilerplate-df 0) and the default, and the default through `stream` (boilerplate learnt as documents arrive).
# 2. Speed: the end-to-end bench's corpus (`generate -n N --seed 7 --event-size 8`) at 100k and 1M, both
#    rules, twice each, interleaved: documents/s, phases, peak RSS.
# Usage: bench/reader_copies.sh [DATASETS_DIR]   (needs build/release; ~6 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${STORYLINE_DATASETS:-../shared/datasets}}
bin=build/release/storyline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
old="--containment 0 --boilerplate-df 0"
echo "# bench/reader_copies.sh on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD)"
for source in timeline17 allsides_neus; do
  for seed in 1 2; do
    "$bin" generate --source "$data/$source/docs.jsonl" --reader-copies -n 8000 --seed "$seed" \
      -o "$work/$source-$seed.jsonl" 2>/dev/null
  done
done
"$bin" generate --source "$data/timeline17/docs.jsonl" --min-jaccard 0 -n 6000 --seed 1 -o "$work/classic-t17.jsonl" 2>/dev/null
"$bin" generate --min-jaccard 0 -n 10000 --seed 3 -o "$work/synthetic.jsonl" 2>/dev/null
echo "corpus rule pairwise_precision pairwise_recall pairwise_f1 | joined per kind"
for corpus in timeline17-1 timeline17-2 allsides_neus-1 allsides_neus-2 classic-t17 synthetic; do
  for rule in old default; do
    args=""
    [ "$rule" = default ] || args=$old
    # shellcheck disable=SC2086
    "$bin" dedup "$work/$corpus.jsonl" -o /dev/null --annotate "$work/ann.jsonl" -q $args
    scores=$("$bin" eval --gold "$work/$corpus.jsonl" --pred "$work/ann.jsonl" 2>&1 | awk '/^pairwise/{print $2, $3, $4}')
    kinds=""
    case $corpus in timeline17*|allsides*) kinds=$(python3 bench/copy_kinds.py "$work/$corpus.jsonl" "$work/ann.jsonl");; esac
    echo "$corpus $rule $scores | $kinds"
  done
  # The live feed (stream), fed the corpus in its order: boilerplate learnt as the documents arrive.
  case $corpus in
    timeline17*|allsides*)
      rm -f "$work/state.db"*
      "$bin" stream --db "$work/state.db" --sync-normal -q < "$work/$corpus.jsonl" > "$work/ann.jsonl"
      scores=$("$bin" eval --gold "$work/$corpus.jsonl" --pred "$work/ann.jsonl" 2>&1 | awk '/^pairwise/{print $2, $3, $4}')
      echo "$corpus stream $scores | $(python3 bench/copy_kinds.py "$work/$corpus.jsonl" "$work/ann.jsonl")";;
  esac
done
echo "documents rule seconds docs/s peak_MB phases"
"$bin" generate -n 1000000 --seed 7 --event-size 8 -o "$work/news-1000000.jsonl" 2>/dev/null
head -n 100000 "$work/news-1000000.jsonl" > "$work/news-100000.jsonl"
for n in 100000 1000000; do
  for rep in 1 2; do
    for rule in old default; do
      args=""
      [ "$rule" = default ] || args=$old
      # shellcheck disable=SC2086
      /usr/bin/time -f "peak %M" -o "$work/time" "$bin" dedup "$work/news-$n.jsonl" -o "$work/kept.jsonl" $args 2> "$work/err"
      line=$(sed -n 's/^  \([0-9.]*\) s, \([0-9]*\) documents\/s.*/\1 \2/p' "$work/err")
      phases=$(sed -n 's/^  phases: //p' "$work/err")
      echo "$n $rule $line $(( $(awk '{print $2}' "$work/time") / 1024 )) $phases"
    done
  done
done
