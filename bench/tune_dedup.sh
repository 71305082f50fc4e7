#!/usr/bin/env bash
# Chooses the dedup defaults by measurement: syndication-style copies of real articles (timeline17 full
# articles, allsides_neus leads; two seeds each) plus a synthetic corpus, scored by pairwise and B-cubed
# F1 against the planted truth for a grid of methods, shingle sizes, hash counts and thresholds.
# Usage: bench/tune_dedup.sh [DATASETS_DIR] > table.tsv   (needs build/release/storyline)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${STORYLINE_DATASETS:-../shared/datasets}}
bin=build/release/storyline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$data/timeline17/docs.jsonl" ] || { echo "datasets not found in $data (give the path)" >&2; exit 1; }

corpora=()
for seed in 1 2; do
  "$bin" generate --source "$data/timeline17/docs.jsonl" --min-jaccard 0 --copy-fraction 0.3 -n 6000 \
    --seed "$seed" -o "$work/t17-s$seed.jsonl" 2>/dev/null
  "$bin" generate --source "$data/allsides_neus/docs.jsonl" --min-jaccard 0 --copy-fraction 0.3 -n 5500 \
    --seed "$seed" -o "$work/allsides-s$seed.jsonl" 2>/dev/null
  corpora+=("t17-s$seed" "allsides-s$seed")
done
"$bin" generate --min-jaccard 0 -n 10000 --seed 3 -o "$work/synthetic.jsonl" 2>/dev/null
corpora+=(synthetic)

f1_of() {  # prints "pairwise_f1 bcubed_f1" of an eval --json line
  sed -E 's/.*"pairwise":\{[^}]*"f1":([0-9.]+).*"bcubed":\{[^}]*"f1":([0-9.]+).*/\1 \2/'
}

printf 'config'
for c in "${corpora[@]}"; do printf '\t%s' "$c"; done
printf '\tmean_pairwise_f1\tmean_bcubed_f1\n'
run() {  # run NAME ARGS...
  local name=$1; shift
  local sum_p=0 sum_b=0
  printf '%s' "$name"
  for c in "${corpora[@]}"; do
    "$bin" dedup "$work/$c.jsonl" -o /dev/null --annotate "$work/ann.jsonl" -q "$@"
    read -r p b < <("$bin" eval --json --gold "$work/$c.jsonl" --pred "$work/ann.jsonl" | f1_of)
    printf '\t%s' "$p"
    sum_p=$(awk -v a="$sum_p" -v b="$p" 'BEGIN{print a+b}')
    sum_b=$(awk -v a="$sum_b" -v b="$b" 'BEGIN{print a+b}')
  done
  awk -v p="$sum_p" -v b="$sum_b" -v n="${#corpora[@]}" 'BEGIN{printf "\t%.4f\t%.4f\n", p/n, b/n}'
}

grid=${TUNE_GRID:-full}
if [ "$grid" = full ]; then
  for k in 64 128 256; do
    for n in 3 5 7; do
      for t in 0.3 0.4 0.5 0.6 0.7 0.8; do
        run "minhash k=$k ngram=$n threshold=$t" --num-hashes "$k" --ngram "$n" --threshold "$t"
      done
    done
  done
  for n in 5 9; do
    for t in 0.4 0.5 0.6 0.7; do
      run "minhash k=128 char ngram=$n threshold=$t" --shingle char --ngram "$n" --threshold "$t"
    done
  done
  for t in 0.4 0.5 0.6; do
    run "minhash k=128 ngram=5 threshold=$t verify=exact" --threshold "$t" --verify exact
  done
fi
for t in 0.35 0.4 0.45 0.5 0.55; do
  run "minhash k=128 ngram=5 threshold=$t" --threshold "$t"
done
for n in 1 3 5; do
  for h in 3 4 6 8 10; do
    run "simhash ngram=$n max-hamming=$h" --method simhash --ngram "$n" --max-hamming "$h"
  done
done
