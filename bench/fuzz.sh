#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 180) from seed corpora made from the
# shared datasets, with ASan and UBSan, and prints a table: executions, coverage (edges), features,
# corpus size, findings. Crash inputs are kept in build/fuzz/findings/TARGET/; the script exits 1 if
# there is any. The README's test command runs it briefly: bash bench/fuzz.sh 4
#   bash bench/fuzz.sh [SECONDS] [TARGET...]     (targets: record reader text index state eval http)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-180}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(record reader text index state eval http)
data=../shared/datasets
out=build/fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null

# Seed corpora: small and real. Each file is one input.
corpus=$out/corpus
seed() {  # seed TARGET NAME < bytes
  mkdir -p "$corpus/$1"
  cat > "$corpus/$1/$2"
}
if [ ! -d "$corpus" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  n=0
  for f in "$data"/*/docs.jsonl "$data"/seeds/seeds.jsonl; do
    head -n 40 "$f" > "$tmp/part.jsonl"
    while IFS= read -r line; do
      n=$((n + 1))
      printf '%s' "${line:0:4000}" | seed record "line$n"
      printf '%s' "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d.get("title") or "", d.get("text","")[:3000])' 2>/dev/null |
        seed text "text$n" || true
    done < "$tmp/part.jsonl"
    base=$(basename "$(dirname "$f")")
    head -n 8 "$f" | seed reader "$base.jsonl"
    head -n 8 "$f" | gzip -c | seed reader "$base.jsonl.gz"
    head -n 8 "$f" | zstd -q -c | seed reader "$base.jsonl.zst"
  done
  printf '{"id":"a","text":"x","big":18446744073709551616,"f":1e309}' | seed record big-numbers
  printf '{"id":1.5e308,"text":"caf\xe9 \xf0\x9f\x98\x80 !!!"}' | seed record odd-id
  bin=$out/storyline
  "$bin" dedup "$data"/seeds/seeds.jsonl -o "$tmp/k" --save-index "$tmp/seeds.idx" 2>/dev/null
  seed index seeds.idx < "$tmp/seeds.idx"
  "$bin" generate -n 50 --seed 3 -o "$tmp/gen.jsonl" 2>/dev/null
  "$bin" dedup "$tmp/gen.jsonl" -o "$tmp/k" --save-index "$tmp/gen.idx" 2>/dev/null
  seed index gen.idx < "$tmp/gen.idx"
  "$bin" stream -q --sync-normal --db "$tmp/s.db" < "$data"/seeds/seeds.jsonl > /dev/null
  { printf '\x00'; cat "$tmp/s.db.snapshot"; } | seed state snapshot
  { printf '\x01'; cat "$tmp/s.db"; } | seed state database
  head -n 30 "$tmp/gen.jsonl" | sed 's/"id"/"label":"x","id"/' | seed eval gold
  head -n 30 "$data"/clough_reuse/pairs.jsonl | seed eval pairs
  doc=$(head -n 1 "$data"/seeds/seeds.jsonl)
  printf 'POST /v1/documents HTTP/1.1\r\nHost: f\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "${#doc}" "$doc" | seed http post
  printf 'POST /v1/documents HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{"id\r\n0\r\n\r\n' | seed http chunked
  printf '%s' "$doc" | gzip -c > "$tmp/doc.gz"
  { printf 'POST /v1/documents HTTP/1.1\r\nHost: f\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' \
      "$(stat -c %s "$tmp/doc.gz")"; cat "$tmp/doc.gz"; } | seed http gzip
  for path in /v1/documents/x /v1/stories/s1 "/v1/stories?since=2018-01-01&limit=5" /v1/threads/t1 /healthz /metrics; do
    printf 'GET %s HTTP/1.1\r\nHost: f\r\n\r\n' "$path" | seed http "get$(echo "$path" | tr -c 'a-z0-9' _)"
  done
  printf 'DELETE /v1/documents/x HTTP/1.1\r\nHost: f\r\nAuthorization: bearer t\r\n\r\nPUT / HTTP/1.1\r\n\r\n' | seed http delete
fi

printf '%-8s %10s %9s %8s %8s %9s %s\n' target seconds execs cov ft corpus findings
status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/findings/$t" "$out/logs"
  log=$out/logs/$t.log
  # A private copy of the corpus grows during the run; the seeds stay as they are. Every input that
  # once found a bug (tests/fuzz/regressions/TARGET) is replayed first.
  mkdir -p "$out/work/$t"
  cp -n "$corpus/$t"/* "$out/work/$t"/ 2>/dev/null || true
  cp tests/fuzz/regressions/"$t"/* "$out/work/$t"/ 2>/dev/null || true
  set +e
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/tests/fuzz/fuzz_$t" "$out/work/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/findings/$t/" > "$log" 2>&1
  code=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo 0)
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo 0)
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+' || echo 0)
  findings=$(find "$out/findings/$t" -type f | wc -l)
  printf '%-8s %10s %9s %8s %8s %9s %s\n' "$t" "$seconds" "$execs" "$cov" "$ft" "$corp" "$findings"
  if [ "$code" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status=1
    grep -E 'ERROR|SUMMARY|runtime error|deadly signal|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
  fi
done
exit $status
