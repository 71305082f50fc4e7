#!/usr/bin/env bash
# Load benchmark of `storyline serve`: a deterministic corpus of ~2 KB news-like documents (with planted
# copies) is POSTed by 16 concurrent loopback clients, one document per request; prints the sustained
# rate, p50/p90/p99 latency and the server's peak memory; then kills the server with SIGKILL and restarts
# it (a crash: the last background snapshot plus the rows after it), stops it with SIGTERM and restarts
# it again (a clean stop: the snapshot alone), and reports how fast each start rebuilds the state. While
# the load runs, the live page (GET /) is fetched every half second: how many answered, their median
# and slowest time, and any failure. Writes bench/results/feed-DATE.json with the machine it ran on.
# Usage: bench/feed_bench.sh [DOCS...] (default 100000)
#   env: CLIENTS=16 BATCH=1 SYNC=full|normal SERVE_OPTS="--snapshot-every 1000000" (more serve options)
#        BUILD=build/bench (the build directory; build/release also has the load client)
# Needs the bench preset (cmake --preset bench && cmake --build build/bench) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000)
clients=${CLIENTS:-16}
batch=${BATCH:-1}
sync=${SYNC:-full}
build=${BUILD:-build/bench}
bin=$build/storyline
load=$build/bench/storyline_feed_load
data=${STORYLINE_BENCH_DATA:-build/bench-data}
[ -x "$load" ] || { echo "build the bench preset first: cmake --preset bench && cmake --build build/bench" >&2; exit 1; }
mkdir -p "$data" bench/results
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill -9 "$server" 2>/dev/null; rm -rf "$work"' EXIT
sync_flag=()
[ "$sync" = normal ] && sync_flag=(--sync-normal)

start_server() {  # start_server LOG -> sets server, port
  # shellcheck disable=SC2086
  # (The load's clients and the page fetches share one address: room for both under its connection cap.)
  "$bin" serve --port 0 --db "$work/state.db" "${sync_flag[@]}" --max-client-connections $((clients + 4)) \
    ${SERVE_OPTS:-} 2> "$1" &
  server=$!
  for _ in $(seq 1 6000); do
    grep -q "listening on" "$1" 2>/dev/null && break
    sleep 0.05
  done
  port=$(grep -oE 'http://127.0.0.1:[0-9]+' "$1" | cut -d: -f3)
}
stop_server() {
  kill -TERM "$server"
  wait "$server" || true
  server=""
}

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
json="bench/results/feed-$(date -u +%Y%m%d).json"
rows=()
printf '%-9s %7s %5s %6s %8s %9s %8s %8s %8s %9s %9s %11s %9s %11s %10s %6s %9s %9s %7s\n' docs clients batch sync \
  seconds docs/s "p50 ms" "p90 ms" "p99 ms" "peak MB" "replay s" "replay/s" "crash s" "crash/s" "crash rows" \
  pages "page p50" "page max" "page err"
for n in "${sizes[@]}"; do
  corpus="$data/corpus-$n.jsonl"
  [ -s "$corpus" ] || "$bin" generate -n "$n" --seed 7 -o "$corpus" 2>/dev/null
  rm -f "$work/state.db"*
  start_server "$work/serve.log"
  "$load" 127.0.0.1 "$port" "$corpus" --clients "$clients" --batch "$batch" > "$work/load.json" &
  loader=$!
  : > "$work/pages.txt"
  while kill -0 "$loader" 2>/dev/null; do  # the live page, fetched while documents are added
    curl -s -o "$work/page.html" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$port/" >> "$work/pages.txt" ||
      echo "000 0" >> "$work/pages.txt"
    sleep 0.5
  done
  wait "$loader"
  result=$(cat "$work/load.json")
  pages=$(wc -l < "$work/pages.txt")
  page_err=$(awk '$1 != 200' "$work/pages.txt" | wc -l)
  page_p50=$(awk '$1 == 200 {print $2 * 1000}' "$work/pages.txt" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", NR ? v[int((NR+1)/2)] : 0}')
  page_max=$(awk '$1 == 200 {printf "%.1f\n", $2 * 1000}' "$work/pages.txt" | sort -n | tail -1)
  peak=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status")
  kill -KILL "$server"
  { wait "$server"; } 2>/dev/null || true
  start_server "$work/crash.log"
  crash=$(grep -oE 'replayed in [0-9.]+ s' "$work/crash.log" | grep -oE '[0-9.]+')
  crash_rows=$(grep -oE ', [0-9,]+ of them from rows' "$work/crash.log" | grep -oE '[0-9][0-9,]*' | tr -d ,)
  stop_server
  start_server "$work/replay.log"
  replay=$(grep -oE 'replayed in [0-9.]+ s' "$work/replay.log" | grep -oE '[0-9.]+')
  stop_server
  field() { echo "$result" | grep -oE "\"$1\":[0-9.]+" | cut -d: -f2; }
  rate=$(awk -v n="$n" -v s="$replay" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}')
  crash_rate=$(awk -v n="$n" -v s="$crash" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}')
  printf '%-9s %7s %5s %6s %8s %9s %8s %8s %8s %9s %9s %11s %9s %11s %10s %6s %9s %9s %7s\n' "$n" "$clients" "$batch" \
    "$sync" "$(field seconds)" "$(field documents_per_s)" "$(field p50_ms)" "$(field p90_ms)" "$(field p99_ms)" "$peak" \
    "$replay" "$rate" "$crash" "$crash_rate" "$crash_rows" "$pages" "$page_p50" "${page_max:-0}" "$page_err"
  rows+=("${result%\}},\"sync\":\"$sync\",\"server_peak_rss_mb\":$peak,\"replay_seconds\":$replay,\"replay_documents_per_s\":$rate,\"crash_replay_seconds\":$crash,\"crash_replay_documents_per_s\":$crash_rate,\"crash_replay_rows\":$crash_rows,\"page_fetches\":$pages,\"page_p50_ms\":$page_p50,\"page_max_ms\":${page_max:-0},\"page_failures\":$page_err}")
done
{
  printf '{"bench":"feed","date":"%s","machine":{"cpu":"%s","cores":%s,"memory":"%s"},' "$stamp" "$cpu" "$(nproc)" "$mem"
  printf '"command":"CLIENTS=%s BATCH=%s SYNC=%s SERVE_OPTS=\\"%s\\" bench/feed_bench.sh %s","results":[' "$clients" "$batch" \
    "$sync" "${SERVE_OPTS:-}" "${sizes[*]}"
  (IFS=,; printf '%s' "${rows[*]}")
  printf ']}\n'
} > "$json"
echo "wrote $json"
