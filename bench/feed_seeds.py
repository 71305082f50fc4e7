#!/usr/bin/python3
"""The seeds in the feed: timeline17 with the two seed articles, in date order through `storyline
stream` (options given after the datasets directory are stream's), and the thread of each seed, at
arrival (as stream answered it) and now (in the state after the last document, as `serve` shows it),
with what that thread holds by gold timeline17 thread. The seeds must share one thread, and that
thread must be the Syrian crisis's, nothing unrelated pulled in.

Usage: bench/feed_seeds.py [DATASETS_DIR] [stream options...]   e.g. bench/feed_seeds.py ../shared/datasets --thread-relink 1
(needs build/release/storyline and its Python module, as bench/crosslingual_quality.py --stream)
"""
import collections
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosslingual_quality import ROOT, cluster, read  # noqa: E402


def main():
    args = sys.argv[1:]
    data = args.pop(0) if args and not args[0].startswith("-") else os.path.join(ROOT, "..", "shared", "datasets")
    seeds = read(os.path.join(ROOT, "datasets", "seeds.jsonl"))
    records = read(os.path.join(data, "timeline17", "docs.jsonl")) + seeds
    label = {r["id"]: r.get("label", "seed") for r in records}
    with tempfile.TemporaryDirectory() as work:
        answered, now = cluster(work, "seeds", records, args, stream=True)
    for name, result in (("at arrival", answered), ("now", now)):
        thread = {r["id"]: r["thread_id"] for r in result if "thread_id" in r}
        mine = [thread[s["id"]] for s in seeds]
        print(f"{name}: seeds in {' and '.join(mine) if len(set(mine)) > 1 else 'one thread, ' + mine[0]}")
        for t in dict.fromkeys(mine):
            held = collections.Counter(label[i] for i, u in thread.items() if u == t)
            print(f"  {t}: " + ", ".join(f"{n} {k}" for k, n in held.most_common()))


if __name__ == "__main__":
    main()
