#!/usr/bin/env bash
# Distributed dedup (`mpirun -np N storyline dedup`) against the single process on the same corpus, in
# one run: wall time, documents/s, peak RSS of each rank, bytes sent between ranks per document, the
# time of each phase, and whether the kept lines and the groups are byte-identical to the single
# process (sha256); first, byte identity on planted copies of the shared real articles, with an index.
# On this 2-core machine N = 4 runs 4 ranks on 2 cores (oversubscribed: said in the table); ranks get
# the host's cores divided between them (1 thread each from N = 2).
# Usage: bench/mpi_bench.sh [--identity | --cluster] [SIZES...]    (default: 1000000; --identity: only
#   the real articles' identity check; --cluster: `storyline cluster` instead of dedup, see below; needs
#   build/release with MPI)
# --cluster: per size, one process and N ranks of `storyline cluster` (default options): wall time,
#   documents/s, peak RSS per rank, bytes exchanged per document, phases, B-cubed F1 agreement of the
#   stories and threads with one process's, and B-cubed F1 against the planted stories and threads.
# Environment: RANKS="1 2 4", STORYLINE_DATASETS=../shared/datasets, STORYLINE_BENCH_DATA=build/bench-data
#   (corpora are the end-to-end bench's: `storyline generate -n SIZE --seed 7 --event-size 8`; 10M needs
#   23 GB, plus ~16 GB for one kept file at a time in $OUT, default build/mpi-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
identity_only=0 cluster=0
if [ "${1:-}" = --identity ]; then identity_only=1; shift; fi
if [ "${1:-}" = --cluster ]; then cluster=1; shift; fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000)
[ "$identity_only" = 0 ] || sizes=()
read -r -a ranks_list <<< "${RANKS:-1 2 4}"
bin=build/release/storyline
data=${STORYLINE_BENCH_DATA:-build/bench-data}
out=${OUT:-build/mpi-bench}
mkdir -p "$data" "$out" bench/results
[ -x "$bin" ] || { echo "needs $bin (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "needs mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
results="bench/results/mpi-$(date -u +%Y%m%d).txt"
[ "$identity_only" = 0 ] || results="bench/results/mpi-identity-$(date -u +%Y%m%d).txt"
# The figures of the run whose stderr is $out/err: seconds, rate, phases, and for a run under mpirun
# (label npN) the peak MB of each rank and the bytes sent per document; max is the largest peak.
read_figures() {  # read_figures RUN
  if [ "$1" != single ]; then
    peaks=$(sed -n 's/.*per rank (documents, peak MB): //p' "$out/err" | sed -E 's/[0-9,]+ ([0-9]+)/\1/g; s/;/ /g')
    bytes=$(sed -n 's/.*threads each, \([0-9.]*\) bytes exchanged.*/\1/p' "$out/err")
    label="np$1"
    [ "$1" -le "$cores" ] || label="np$1*"
  fi
  seconds=$(sed -n 's/^  \([0-9.]*\) s, .*/\1/p' "$out/err")
  rate=$(sed -n 's/^  [0-9.]* s, \([0-9]*\) documents\/s.*/\1/p' "$out/err")
  phases=$(sed -n 's/^  phases: //p' "$out/err" | sed 's/ s,/,/g; s/ s$//')
  max=$(echo "$peaks" | tr ' ' '\n' | sort -n | tail -1)
}

if [ "$cluster" = 1 ]; then
  results="bench/results/mpi-cluster-$(date -u +%Y%m%d).txt"
  launch_opts=(--oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
  f1() { "$bin" eval --gold "$1" --gold-field "$2" --pred "$3" --pred-field "$4" | awk '$1 == "b-cubed" {print $4}'; }
  {
    echo "# bench/mpi_bench.sh --cluster ${sizes[*]} on $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $cores cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '%-9s %-6s %8s %8s %11s %-22s %9s %-14s %-14s %s\n' documents run seconds docs/s "peak MB max" \
      "peak MB per rank" bytes/doc "agree s/t" "planted s/t" phases
  } | tee "$results"
  for n in "${sizes[@]}"; do
    corpus="$data/gen-$n.jsonl"
    [ -s "$corpus" ] || "$bin" generate -n "$n" --seed 7 --event-size 8 -o "$corpus" 2>/dev/null
    for run in single "${ranks_list[@]}"; do
      if [ "$run" = single ]; then
        /usr/bin/time -f '%M' -o "$out/time" "$bin" cluster "$corpus" -o "$out/c-$run.jsonl" 2> "$out/err"
        peaks=$(( $(cat "$out/time") / 1024 )) bytes=0 label=single
      else
        mpirun -np "$run" "${launch_opts[@]}" "$bin" cluster "$corpus" -o "$out/c-$run.jsonl" 2> "$out/err"
      fi
      read_figures "$run"
      agree="reference"
      if [ "$run" != single ]; then
        agree="$(f1 "$out/c-single.jsonl" story_id "$out/c-$run.jsonl" story_id)/$(f1 "$out/c-single.jsonl" thread_id "$out/c-$run.jsonl" thread_id)"
      fi
      planted="$(f1 "$corpus" story "$out/c-$run.jsonl" story_id)/$(f1 "$corpus" thread "$out/c-$run.jsonl" thread_id)"
      printf '%-9s %-6s %8s %8s %11s %-22s %9s %-14s %-14s %s\n' "$n" "$label" "$seconds" "$rate" "$max" \
        "$(echo "$peaks" | tr -s ' ' '/')" "$bytes" "$agree" "$planted" "$phases" | tee -a "$results"
      [ "$run" = single ] || rm -f "$out/c-$run.jsonl"
    done
    rm -f "$out/c-single.jsonl"
  done
  echo "(* more ranks than the $cores cores: oversubscribed)" | tee -a "$results"
  exit 0
fi

{
  echo "# bench/mpi_bench.sh ${sizes[*]} on $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $cores cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [ ${#sizes[@]} -eq 0 ] || printf '%-9s %-6s %8s %10s %11s %-28s %12s %-40s %s\n' documents run seconds docs/s \
    "peak MB max" "peak MB per rank" "bytes/doc" phases identical
} | tee "$results"

# Byte identity on planted copies of the shared real articles (timeline17 full articles, allsides_neus
# leads: `storyline generate --source`), at N = 1..4 against one process: kept, annotated and groups
# files of a first day, then of a second day deduplicated against the index the first day saved.
datasets=${STORYLINE_DATASETS:-../shared/datasets}
if [ -f "$datasets/timeline17/docs.jsonl" ]; then
  echo "# identity on planted copies of real articles (day 2 loads the index day 1 saved)" | tee -a "$results"
  for source in timeline17 allsides_neus; do
    "$bin" generate --source "$datasets/$source/docs.jsonl" --min-jaccard 0 --copy-fraction 0.3 -n 8000 \
      --seed 5 -o "$out/real.jsonl" 2>/dev/null
    head -n 4000 "$out/real.jsonl" > "$out/day1.jsonl"
    tail -n +4001 "$out/real.jsonl" > "$out/day2.jsonl"
    for run in single 1 2 3 4; do
      launch=()
      [ "$run" = single ] || launch=(mpirun -np "$run" --oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
      rm -f "$out/index-$run"*
      "${launch[@]}" "$bin" dedup "$out/day1.jsonl" -o "$out/k1-$run" --annotate "$out/a1-$run" \
        --groups "$out/g1-$run" --save-index "$out/index-$run" -q
      "${launch[@]}" "$bin" dedup "$out/day2.jsonl" --index "$out/index-$run" -o "$out/k2-$run" \
        --annotate "$out/a2-$run" --groups "$out/g2-$run" -q
      verdict=reference
      if [ "$run" != single ]; then
        verdict=yes
        for f in k1 a1 g1 k2 a2 g2; do cmp -s "$out/$f-$run" "$out/$f-single" || verdict="NO ($f differs)"; done
      fi
      printf '%-14s %-6s %6s kept of 8000, %5s groups: %s\n' "$source" "$run" \
        "$(cat "$out/k1-$run" "$out/k2-$run" | wc -l)" "$(cat "$out/g1-$run" "$out/g2-$run" | wc -l)" "$verdict" |
        tee -a "$results"
    done
    rm -f "$out"/k[12]-* "$out"/a[12]-* "$out"/g[12]-* "$out"/index-* "$out"/real.jsonl "$out"/day[12].jsonl
  done
fi

for n in "${sizes[@]}"; do
  corpus="$data/news-$n.jsonl"
  [ -s "$corpus" ] || "$bin" generate -n "$n" --seed 7 --event-size 8 -o "$corpus" 2>/dev/null
  ref_kept="" ref_groups=""
  for run in single "${ranks_list[@]}"; do
    rm -f "$out"/kept.jsonl "$out"/groups.jsonl
    if [ "$run" = single ]; then
      /usr/bin/time -f '%M' -o "$out/time" "$bin" dedup "$corpus" -o "$out/kept.jsonl" --groups "$out/groups.jsonl" 2> "$out/err"
      peaks=$(( $(cat "$out/time") / 1024 ))
      bytes=0
      label="single"
    else
      mpirun -np "$run" --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 \
        "$bin" dedup "$corpus" -o "$out/kept.jsonl" --groups "$out/groups.jsonl" 2> "$out/err"
    fi
    read_figures "$run"
    kept=$(sha256sum < "$out/kept.jsonl" | cut -c1-16)
    groups=$(sha256sum < "$out/groups.jsonl" | cut -c1-16)
    if [ -z "$ref_kept" ]; then
      ref_kept=$kept ref_groups=$groups identical="reference"
    elif [ "$kept" = "$ref_kept" ] && [ "$groups" = "$ref_groups" ]; then
      identical="yes"
    else
      identical="NO"
    fi
    printf '%-9s %-6s %8s %10s %11s %-28s %12s %-40s %s\n' "$n" "$label" "$seconds" "$rate" "$max" "$(echo "$peaks" | tr -s ' ' '/')" \
      "$bytes" "$phases" "$identical" | tee -a "$results"
  done
done
rm -f "$out"/kept.jsonl "$out"/groups.jsonl
echo "(* more ranks than the $cores cores: oversubscribed)" | tee -a "$results"
