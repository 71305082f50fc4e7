#!/usr/bin/python3
"""The feed's threads over several arrival orders: one order is one draw, not a figure.

The feed decides a new story's thread once, from what came before it, so a small change moves later
answers and one date-ordered run of a dataset swings by +-0.03 B-cubed F1 with the order of the
articles of one day. This script streams each of ml_crisis_es, timeline17 and the two-language feed
of bench/crosslingual_quality.py in N orders (date order; within a day, order k shuffles the articles
with seed k, order 0 keeps the file's order) into fresh states with `storyline stream` (the options
given after the datasets directory are stream's), and prints, per dataset, the mean and standard
deviation of thread B-cubed F1 at arrival (each document's thread as stream answered it) and now
(its thread in the state after the last document, read back through the Python module), then each
order's value. Compare two settings on the same orders: their differences order by order are the
measure, the means and deviations say how far to trust it. Last, the seeds' criterion over the orders:
in timeline17 at arrival, the thread holding most SyrianCrisis articles, and how many articles of
other timelines it holds beside them, order by order (nothing unrelated pulled in: a few).

Usage: bench/feed_orders.py [DATASETS_DIR] [--orders N] [stream options...]   (default N = 10: orders
1..N; needs build/release/storyline and its Python module; $STORYLINE_BIN names another binary)
"""
import collections
import concurrent.futures
import os
import random
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosslingual_quality import BIN, ROOT, TWIN, read, score, write  # noqa: E402


def ordered(records, seed):
    """Date order (undated last); within a day, the file's order (seed 0) or a shuffle by seed."""
    tie = list(range(len(records)))
    if seed:
        random.Random(seed).shuffle(tie)
    keys = [((r.get("date") or "~")[:10], tie[i]) for i, r in enumerate(records)]
    return [records[i] for i in sorted(range(len(records)), key=keys.__getitem__)]


def stream(work, name, records, options):
    """(answered, now): each record's thread as stream answered it and as the state holds it after."""
    path, out, db = (os.path.join(work, f"{name}.{ext}") for ext in ("in.jsonl", "out.jsonl", "db"))
    write(path, records)
    with open(path, "rb") as f, open(out, "wb") as o:
        subprocess.run([BIN, "stream", "--db", db, "--sync-normal", "-q", "--encoder", "off", "--jobs", "1",
                        *options], stdin=f, stdout=o, check=True)
    answered = [r for r in read(out) if "thread_id" in r]
    import storyline  # the module beside BIN (sys.path set in main)
    with storyline.Feed(db) as feed:
        now = [dict(r, thread_id=feed.get(r["id"])["thread_id"]) for r in answered]
    return answered, now


def syrian_thread(gold, answered):
    """(SyrianCrisis articles, other articles) in the answered thread holding most SyrianCrisis ones."""
    label = {g["id"]: g["label"] for g in gold}
    held = collections.defaultdict(collections.Counter)
    for r in answered:
        held[r["thread_id"]][label.get(r["id"])] += 1
    best = max(held.values(), key=lambda c: c["SyrianCrisis"])
    return best["SyrianCrisis"], sum(best.values()) - best["SyrianCrisis"]


def run_one(work, label, gold, seed, options):
    name = f"{label}.{seed}"
    answered, now = stream(work, name, ordered(gold, seed), options)
    return (score(work, name, gold, answered)[0], score(work, name + ".now", gold, now)[0],
            syrian_thread(gold, answered))


def main():
    args = sys.argv[1:]
    data = os.path.join(ROOT, "..", "shared", "datasets")
    if args and not args[0].startswith("-"):
        data = args.pop(0)
    orders = 10
    if args[:1] == ["--orders"]:
        orders = int(args[1])
        args = args[2:]
    sys.path.insert(0, os.path.join(os.path.dirname(BIN), "python"))
    spanish = read(os.path.join(data, "ml_crisis_es", "docs.jsonl"))
    english = read(os.path.join(data, "timeline17", "docs.jsonl"))
    for r in spanish:
        r["label"] = TWIN.get(r["label"], r["label"])
    sets = [("ml_crisis_es", spanish), ("timeline17", english),
            ("es + en together", spanish + [r for r in english if r["label"] in TWIN.values()])]
    seeds = range(1, orders + 1)
    with tempfile.TemporaryDirectory() as work, concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        jobs = {(label, seed): pool.submit(run_one, work, label.split()[0], gold, seed, args)
                for label, gold in sets for seed in seeds}
        print(f"{'run':18s} {'at arrival: mean':>16s} {'sd':>5s} {'now: mean':>9s} {'sd':>5s}  at arrival, order by order")
        for label, _ in sets:
            got = [jobs[(label, seed)].result() for seed in seeds]
            arrival, now = [a for a, _, _ in got], [n for _, n, _ in got]
            sd = (lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)
            print(f"{label:18s} {statistics.mean(arrival):16.3f} {sd(arrival):5.3f} {statistics.mean(now):9.3f} "
                  f"{sd(now):5.3f}  " + " ".join(f"{a:.3f}" for a in arrival))
        syrian = [jobs[("timeline17", seed)].result()[2] for seed in seeds]
        print("timeline17's Syrian thread at arrival, order by order (Syrian articles + others): " +
              " ".join(f"{s}+{o}" for s, o in syrian))


if __name__ == "__main__":
    main()
