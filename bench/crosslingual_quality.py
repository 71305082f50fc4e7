#!/usr/bin/python3
"""Threads across languages: Spanish and English articles on the same crises, clustered together.

ml_crisis_es holds Spanish articles on four crisis threads of 2011-2019 (egypt, libya, syria, yemen);
timeline17 holds English articles on nine threads, three of them the same crises (EgyptianProtest,
LibyaWar, SyrianCrisis). The Spanish articles and the English ones of those three threads (1,704),
with the gold thread of each Spanish article renamed to its English twin's, are a two-language feed of
the same crises in which a thread is right only if the languages meet (neither language is most of it,
as in a feed of the same crises in Spanish, French and Italian). This script runs `storyline cluster`
(defaults, or the options given after the datasets directory) on
  - ml_crisis_es alone, and timeline17 alone (all nine threads; one language each), and
  - the two-language feed,
and prints thread B-cubed and pairwise F1 (`storyline eval`, gold = thread): the union as a whole, and
its Spanish and English parts scored on their own (so a language's threads inside the mixed run are
seen apart from whether the languages meet).

With --stream, the same through the feed (`storyline stream` into a fresh state, each file in date
order, as a live feed would see it), and the options after it are stream's. Two scores then: "at
arrival", each document's thread as stream answered it, and "now", its thread in the state after the
last document (what serve's lookups and the live page show; relinking moves stories after their
answer), read back through the Python module (build/release/python). The states are made with
`--encoder off`, since the module opens no state made with the encoder; on these full articles the
encoder does nothing.

Usage: bench/crosslingual_quality.py [DATASETS_DIR] [--stream] [options...]   (needs build/release/storyline;
$STORYLINE_BIN names another binary, an older build to compare with, say)
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("STORYLINE_BIN", os.path.join(ROOT, "build", "release", "storyline"))
TWIN = {"egypt": "EgyptianProtest", "libya": "LibyaWar", "syria": "SyrianCrisis"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def score(work, name, gold, pred):
    """(B-cubed F1, pairwise F1) of pred's thread_id against gold's label, over gold's ids."""
    ids = {g["id"] for g in gold}
    write(os.path.join(work, f"{name}.gold.jsonl"), gold)
    write(os.path.join(work, f"{name}.pred.jsonl"), [p for p in pred if p.get("id") in ids])
    out = json.loads(subprocess.run(
        [BIN, "eval", "--json", "--gold", os.path.join(work, f"{name}.gold.jsonl"),
         "--pred", os.path.join(work, f"{name}.pred.jsonl"), "--pred-field", "thread_id"],
        check=True, capture_output=True, text=True).stdout)
    return out["bcubed"]["f1"], out["pairwise"]["f1"]


def cluster(work, name, records, options, stream=False):
    path = os.path.join(work, f"{name}.in.jsonl")
    out = os.path.join(work, f"{name}.out.jsonl")
    if not stream:
        write(path, records)
        subprocess.run([BIN, "cluster", path, "-o", out, "-q", *options], check=True)
        return read(out)
    # Date order, undated records last in file order (a stable sort).
    write(path, sorted(records, key=lambda r: (r.get("date") or "~")[:10]))
    db = os.path.join(work, f"{name}.db")
    with open(path, "rb") as f, open(out, "wb") as o:
        subprocess.run([BIN, "stream", "--db", db, "--sync-normal", "-q", "--encoder", "off", *options], stdin=f,
                       stdout=o, check=True)
    answered = read(out)
    sys.path.insert(0, os.path.join(os.path.dirname(BIN), "python"))
    import storyline  # the module built beside the binary
    with storyline.Feed(db) as feed:
        now = [dict(r, thread_id=feed.get(r["id"])["thread_id"]) for r in answered if "thread_id" in r]
    return answered, now


def main():
    args = sys.argv[1:]
    data = os.path.join(ROOT, "..", "shared", "datasets")
    if args and not args[0].startswith("-"):
        data = args.pop(0)
    stream = bool(args) and args[0] == "--stream"
    if stream:
        args.pop(0)
    spanish = read(os.path.join(data, "ml_crisis_es", "docs.jsonl"))
    english = read(os.path.join(data, "timeline17", "docs.jsonl"))
    for r in spanish:
        r["label"] = TWIN.get(r["label"], r["label"])
    with tempfile.TemporaryDirectory() as work:
        rows = []

        def run(name, records):
            out = cluster(work, name, records, args, stream)
            return out if stream else (out, out)

        def row(label, name, gold, pred):
            answered, now = pred
            return (label, len(gold)) + score(work, name, gold, answered) + score(work, name + "_now", gold, now)

        es_alone = run("es", spanish)
        rows.append(row("ml_crisis_es alone", "es", spanish, es_alone))
        en_alone = run("en", english)
        rows.append(row("timeline17 alone", "en", english, en_alone))
        crises = [r for r in english if r["label"] in TWIN.values()]
        both = run("both", spanish + crises)
        rows.append(row("es + en together", "both", spanish + crises, both))
        rows.append(row("  its es part", "both_es", spanish, both))
        rows.append(row("  its en part", "both_en", crises, both))
        threads = {}
        for r in both[1]:
            if "thread_id" not in r:  # stream's line for a rejected record
                continue
            threads.setdefault(r["thread_id"], set()).add("es" if r["id"].startswith("es/") else "en")
        mixed = sum(1 for langs in threads.values() if len(langs) == 2)
        if stream:
            print(f"{'run':22s} {'docs':>5s} {'at arrival: B3 F1':>17s} {'pair F1':>7s} {'now: B3 F1':>10s} {'pair F1':>7s}")
            for name, n, b3, pair, b3_now, pair_now in rows:
                print(f"{name:22s} {n:5d} {b3:17.3f} {pair:7.3f} {b3_now:10.3f} {pair_now:7.3f}")
        else:
            print(f"{'run':22s} {'docs':>5s} {'B3 F1':>6s} {'pair F1':>7s}")
            for name, n, b3, pair, _, _ in rows:
                print(f"{name:22s} {n:5d} {b3:6.3f} {pair:7.3f}")
        print(f"threads in the union{' now' if stream else ''}: {len(threads)}, {mixed} of them with both languages")


if __name__ == "__main__":
    main()
