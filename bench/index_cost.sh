#!/usr/bin/env bash
# What --save-index and --index cost, in one process and on N ranks: a generated corpus split into two
# days; day 1 saves an index, day 2 loads it and saves the next. Prints each run's summary lines (time,
# phases, per-rank peaks) and whether day 2's kept and groups files are identical across the runs.
# Usage: bench/index_cost.sh [DOCUMENTS] [RANKS]   (default 1000000 2; needs build/release with MPI)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
ranks=${2:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
bin=build/release/storyline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" generate -n "$n" --seed 7 --event-size 8 -o "$work/all.jsonl" 2>/dev/null
head -n $((n / 2)) "$work/all.jsonl" > "$work/day1.jsonl"
tail -n +$((n / 2 + 1)) "$work/all.jsonl" > "$work/day2.jsonl"
rm "$work/all.jsonl"
for run in single "$ranks"; do
  launch=()
  [ "$run" = single ] || launch=(mpirun -np "$run" --bind-to none --mca mpi_yield_when_idle 1)
  echo "== $run: day 1 (--save-index)"
  /usr/bin/time -f 'wall %e s, max RSS %M KB (the single process, or the launcher)' "${launch[@]}" "$bin" dedup \
    "$work/day1.jsonl" -o "$work/k1-$run" --save-index "$work/i-$run" 2>&1 | grep -E "phases|per rank|wall|documents/s"
  echo "== $run: day 2 (--index, --save-index)"
  /usr/bin/time -f 'wall %e s, max RSS %M KB (the single process, or the launcher)' "${launch[@]}" "$bin" dedup \
    "$work/day2.jsonl" --index "$work/i-$run" --save-index "$work/i2-$run" -o "$work/k2-$run" \
    --groups "$work/g2-$run" 2>&1 | grep -E "index|phases|per rank|wall|documents/s"
  echo "index after day 2: $(du -cb "$work/i2-$run"* | tail -1 | cut -f1) bytes"
done
if cmp -s "$work/k2-single" "$work/k2-$ranks" && cmp -s "$work/g2-single" "$work/g2-$ranks"; then
  echo "day 2 kept and groups: identical"
else
  echo "day 2 kept and groups: DIFFER"
fi
