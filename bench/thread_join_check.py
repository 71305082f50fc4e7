#!/usr/bin/python3
"""Does a thread setting chosen on timeline17 hold beyond timeline17? (issue #3)

timeline17 is the only dataset with thread labels, so a thread parameter tuned on it is tuned on one
file. This script checks a parameter two ways, for each value given:

  fold A, fold B  timeline17 split by gold thread into two corpora (A: BP oil spill, Libya war, H1N1,
                  Michael Jackson; B: Egypt, Syria, Iraq, financial crisis, Haiti): a value that helps
                  only one fold is fitted to those topics;
  full            all of timeline17;
  mixed           timeline17 with allsides_neus and uci_headlines added (19,293 documents, as a feed or
                  crawl would bring other news beside the threads): B-cubed of the timeline17 documents
                  against their gold threads, and how many of the other documents end up in threads
                  made mostly of timeline17 documents ("pulled in": unrelated news absorbed by a thread).

Each cell is the B-cubed F1 from `storyline eval`. Usage:

  /usr/bin/python3 bench/thread_join_check.py [--stream] OPTION VALUE... [-- other cluster options]
  e.g. bench/thread_join_check.py --thread-min-stories 3 10 20

With --stream, each corpus goes through `storyline stream` instead (in date order, into a fresh state,
the options being stream's) and the threads scored are those of the state after the last document
("now", as bench/crosslingual_quality.py --stream reads them): for the feed's relinking settings.

Datasets are read from $STORYLINE_DATASETS or ../shared/datasets; needs build/release/storyline.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "release", "storyline")
DATA = os.environ.get("STORYLINE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
FOLD_A = {"bpoil", "LibyaWar", "H1N1", "MJ"}


def cluster(corpus, options, work):
    out = os.path.join(work, "out.jsonl")
    subprocess.run([BIN, "cluster", corpus, "-o", out, "-q", *options], check=True)
    return out


def stream_now(corpus, options, work):
    """The threads of the feed's state after corpus went through `stream`, as a file like cluster's."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from crosslingual_quality import read, write, cluster as feed  # noqa: E402
    with tempfile.TemporaryDirectory(dir=work) as state:
        _, now = feed(state, "feed", read(corpus), options, stream=True)
    out = os.path.join(work, "out.jsonl")
    write(out, now)
    return out


def bcubed(gold, pred):
    result = subprocess.run([BIN, "eval", "--json", "--gold", gold, "--pred", pred, "--pred-field", "thread_id"],
                            check=True, capture_output=True, text=True).stdout
    b = json.loads(result)["bcubed"]
    return b["precision"], b["recall"], b["f1"]


def pulled_in(pred, own_ids):
    """Documents not in own_ids that sit in threads where own_ids documents are the majority."""
    counts = collections.defaultdict(lambda: [0, 0])
    with open(pred, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            counts[doc["thread_id"]][0 if doc["id"] in own_ids else 1] += 1
    return sum(other for own, other in counts.values() if own > other)


def main():
    args = sys.argv[1:]
    run = cluster
    if args and args[0] == "--stream":
        run = stream_now
        args = args[1:]
    rest = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    if len(args) < 2:
        sys.exit(__doc__)
    option, values = args[0], args[1:]
    timeline = os.path.join(DATA, "timeline17", "docs.jsonl")
    with tempfile.TemporaryDirectory() as work:
        corpora = {"A": os.path.join(work, "a.jsonl"), "B": os.path.join(work, "b.jsonl"),
                   "mixed": os.path.join(work, "mixed.jsonl")}
        own_ids = set()
        with open(timeline, encoding="utf-8") as f, open(corpora["A"], "w", encoding="utf-8") as a, \
                open(corpora["B"], "w", encoding="utf-8") as b:
            for line in f:
                doc = json.loads(line)
                own_ids.add(doc["id"])
                (a if doc["label"] in FOLD_A else b).write(line)
        with open(corpora["mixed"], "w", encoding="utf-8") as mixed:
            for name in ("timeline17", "allsides_neus", "uci_headlines"):
                with open(os.path.join(DATA, name, "docs.jsonl"), encoding="utf-8") as f:
                    mixed.write(f.read())
        print(f"{option:>24s}  fold A F1  fold B F1    full F1  mixed P / R / F1       pulled in")
        for value in values:
            options = [option, value, *rest]
            cells = [bcubed(corpora[k], run(corpora[k], options, work))[2] for k in ("A", "B")]
            cells.append(bcubed(timeline, run(timeline, options, work))[2])
            pred = run(corpora["mixed"], options, work)
            p, r, f1 = bcubed(timeline, pred)
            print(f"{value:>24s}  {cells[0]:9.4f}  {cells[1]:9.4f}  {cells[2]:9.4f}  {p:.3f} / {r:.3f} / {f1:.4f}"
                  f"  {pulled_in(pred, own_ids):9d}", flush=True)


if __name__ == "__main__":
    main()
