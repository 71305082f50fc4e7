#!/usr/bin/env bash
# Mutation check of the test suite: applies each patch of bench/mutants/ (one plausible bug each) to a
# clean copy of HEAD, builds the dev preset there, runs the suite and says whether a test failed
# (killed) or none did (survived). Every mutant must be killed; exits 1 if one survives or does not apply.
#   bash bench/mutants.sh [PATCH...]          (default: every bench/mutants/*.patch)
# A patch that no longer applies after a change to the code is reported as stale: regenerate it (edit
# the file in a checkout, `git diff -- FILE > bench/mutants/NN-name.patch`, restore the file).
set -euo pipefail
cd "$(dirname "$0")/.."
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=(bench/mutants/*.patch)
work=build/mutants/tree
rm -rf build/mutants
mkdir -p build/mutants
git worktree prune
git worktree add -q --detach "$work" HEAD
trap 'git worktree remove --force "$work" 2>/dev/null || true' EXIT
ln -s "$(cd .. && pwd)/shared" build/mutants/shared 2>/dev/null || true  # the tests look for ../shared
(cd "$work" && cmake --preset dev >/dev/null && cmake --build --preset dev >/dev/null)
start=$(date +%s)
killed=0 survived=0 stale=0
printf '%-48s %-9s %8s %s\n' mutant result seconds "first failing test"
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  t0=$(date +%s)
  if ! git -C "$work" apply "$(pwd)/$patch" 2>/dev/null; then
    printf '%-48s %-9s %8s\n' "$name" stale 0
    stale=$((stale + 1))
    continue
  fi
  result=survived first=""
  if ! (cd "$work" && cmake --build --preset dev >/dev/null 2>&1); then
    result=broken first="(does not compile: fix the patch)"
  elif ! out=$(cd "$work" && ctest --preset dev -j2 --stop-on-failure 2>&1); then
    result=killed
    # The failed tests ctest lists (with -j2 a test interrupted by the stop may be listed too).
    first=$(echo "$out" | sed -n '/The following tests FAILED/,$p' | grep -oE '[A-Za-z0-9_]+\.[A-Za-z0-9_]+ \((Failed|SEGFAULT|Subprocess aborted|Timeout|Exception)' |
      sed 's/ (.*//' | head -n 3 | paste -sd, -)
  fi
  git -C "$work" apply -R "$(pwd)/$patch"
  case $result in
    killed) killed=$((killed + 1)) ;;
    survived) survived=$((survived + 1)) ;;
    *) stale=$((stale + 1)) ;;
  esac
  printf '%-48s %-9s %8s %s\n' "$name" "$result" "$(($(date +%s) - t0))" "$first"
done
(cd "$work" && cmake --build --preset dev >/dev/null 2>&1) || true
echo "mutants: ${#patches[@]}, killed $killed, survived $survived, stale or broken $stale; $(($(date +%s) - start)) s after the first build"
[ "$survived" -eq 0 ] && [ "$stale" -eq 0 ]
