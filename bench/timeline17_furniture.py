#!/usr/bin/env python3
"""timeline17's thread errors (issue 19): three measurements.

1. Page furniture out of the text: the sentences (or lines) held by at least max(20, 1%) of the
   documents are dropped, the result clustered with the defaults and scored (thread B-cubed F1).
2. The off-topic share: articles of a timeline that never name its subject (a keyword list per
   timeline), and the B-cubed F1 of an oracle that puts every on-topic article in its gold thread and
   every off-topic one alone: what a content-only method could reach at best.
3. The engine's threads (defaults, the text as is) scored over the on-topic articles alone: what it
   reaches where the gold thread is what the article is about.

Usage: /usr/bin/python3 bench/timeline17_furniture.py [DATASETS_DIR]   (needs build/release/storyline)
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"
src = os.path.join(data, "timeline17", "docs.jsonl")
binary = os.environ.get("STORYLINE_BIN", "build/release/storyline")
docs = [json.loads(line) for line in open(src, encoding="utf-8")]


def b3(gold, pred):
    gc, pc, both = collections.Counter(gold), collections.Counter(pred), collections.Counter(zip(gold, pred))
    p = sum(both[(g, q)] / pc[q] for g, q in zip(gold, pred)) / len(gold)
    r = sum(both[(g, q)] / gc[g] for g, q in zip(gold, pred)) / len(gold)
    return p, r, 2 * p * r / (p + r)


def score(path, gold_path=src):
    out = subprocess.run([binary, "eval", "--json", "--gold", gold_path, "--pred", path, "--pred-field",
                          "thread_id"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["bcubed"]


def keep_lines(path, ids, to):
    """Writes the lines of path whose record's id is in ids to `to`."""
    with open(path, encoding="utf-8") as f, open(to, "w", encoding="utf-8") as out:
        out.writelines(line for line in f if line.strip() and json.loads(line)["id"] in ids)


def strip(split, min_words):
    counts = collections.Counter()
    for d in docs:
        for s in {x.strip() for x in split.split(d["text"])}:
            if len(s.split()) >= min_words:
                counts[s] += 1
    bar = max(20, 0.01 * len(docs))
    furniture = {k for k, v in counts.items() if v >= bar}
    out = []
    for d in docs:
        d = dict(d)
        d["text"] = "\n".join(x for x in split.split(d["text"]) if x.strip() not in furniture)
        out.append(d)
    return furniture, out


work_dir = tempfile.TemporaryDirectory()
as_is = os.path.join(work_dir.name, "as_is.jsonl")
with tempfile.TemporaryDirectory() as work:
    variants = [("as is", None, 0), ("furniture lines out", re.compile(r"\n"), 4),
                ("furniture sentences out", re.compile(r"(?<=[.?!])\s+|\n|-RRB-\s"), 5)]
    for name, split, min_words in variants:
        path = os.path.join(work, "in.jsonl")
        kept = docs
        removed = 0
        if split is not None:
            furniture, kept = strip(split, min_words)
            removed = len(furniture)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(d) + "\n" for d in kept)
        subprocess.run([binary, "cluster", path, "-o", os.path.join(work, "out.jsonl"), "-q"], check=True)
        s = score(os.path.join(work, "out.jsonl"))
        if split is None:
            os.replace(os.path.join(work, "out.jsonl"), as_is)
        print(f"{name:25s} furniture {removed:3d}  B3 P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f}")

subject = {"SyrianCrisis": r"syria|assad|damascus", "LibyaWar": r"liby|gaddafi|gadhafi|qaddafi|tripoli",
           "EgyptianProtest": r"egypt|mubarak|cairo", "H1N1": r"h1n1|swine|flu", "IraqWar": r"iraq",
           "Finan": r"financ|bank|crisis|recession", "bpoil": r"bp|oil|spill|gulf", "haiti": r"haiti",
           "MJ": r"jackson"}
gold, oracle, total, off, on_topic = [], [], collections.Counter(), collections.Counter(), set()
for i, d in enumerate(docs):
    if not d.get("text", "").strip():
        continue
    g = d["label"]
    gold.append(g)
    total[g] += 1
    on = re.search(subject[g], (d.get("title", "") + " " + d["text"]).lower()) is not None
    off[g] += 0 if on else 1
    oracle.append(g if on else f"alone{i}")
    if on:
        on_topic.add(d["id"])
print("off-topic articles per timeline (never name its subject):",
      ", ".join(f"{g} {off[g]}/{total[g]}" for g in total))
p, r, f = b3(gold, oracle)
print(f"oracle (on-topic in the gold thread, off-topic alone): B3 P {p:.4f} R {r:.4f} F1 {f:.4f}")
keep_lines(src, on_topic, os.path.join(work_dir.name, "gold.jsonl"))
keep_lines(as_is, on_topic, os.path.join(work_dir.name, "pred.jsonl"))
s = score(os.path.join(work_dir.name, "pred.jsonl"), os.path.join(work_dir.name, "gold.jsonl"))
print(f"the engine over the {len(on_topic)} on-topic articles alone: B3 P {s['precision']:.4f} "
      f"R {s['recall']:.4f} F1 {s['f1']:.4f}")
work_dir.cleanup()
