#!/usr/bin/env bash
# The sentence encoder's weight and word limit (issue 24), chosen across the story sets: uci_headlines
# (headlines only), allsides_neus and ecbplus (full texts, where short documents are few and must not
# lose); and scored, not tuned, on a headline set made from allsides_neus (its titles alone, text
# dropped: `allsides_titles`). Story B-cubed F1 per dataset and configuration, encoder off first.
# Usage: bench/tune_encoder.sh [DATASETS_DIR]   (needs build/release/storyline and its encoder model)
set -euo pipefail
# shellcheck source=bench/quality_common.sh
source "$(dirname "$0")/quality_common.sh"
/usr/bin/python3 - "$data/allsides_neus/docs.jsonl" "$work/allsides_titles.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in f:
        r = json.loads(line)
        r["text"] = ""
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
sets=("uci_headlines:$data/uci_headlines/docs.jsonl" "allsides_neus:$data/allsides_neus/docs.jsonl"
      "ecbplus:$data/ecbplus/docs.jsonl" "allsides_titles:$work/allsides_titles.jsonl")
f1() {  # f1 FILE OPTIONS... -> story B-cubed F1
  local file=$1
  shift
  "$bin" cluster "$file" -o "$work/out.jsonl" -q "$@"
  score "$file" "$work/out.jsonl" story_id | cut -d' ' -f3
}
printf '%-24s' "configuration"
for s in "${sets[@]}"; do printf ' %16s' "${s%%:*}"; done
echo
row() {  # row LABEL OPTIONS...
  local label=$1
  shift
  printf '%-24s' "$label"
  for s in "${sets[@]}"; do printf ' %16s' "$(f1 "${s#*:}" "$@")"; done
  echo
}
row "encoder off" --encoder off
for words in ${WORDS:-15 20 25}; do
  for weight in ${WEIGHTS:-0.1 0.15 0.2 0.25 0.3}; do
    row "w $weight, <= $words words" --encoder-weight "$weight" --encoder-max-words "$words"
  done
done
