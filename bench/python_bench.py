#!/usr/bin/python3
"""storyline from Python against the CLI (and against datasketch when it is installed), in one process.

For each size it takes the corpus of bench/e2e_bench.sh (build/bench-data/news-N.jsonl, made with
`storyline generate -n N --seed 7 --event-size 8` when missing: ~2.3 KB documents, planted copies) and
measures, one after the other in this process:

  cli        `storyline dedup news-N.jsonl -o kept.jsonl --annotate annotated.jsonl --jobs J` (a child
             process: wall seconds, its peak RSS)
  load       the records read into a list with json.loads (what a Python user holds before calling)
  dedup      storyline.dedup(records, jobs=J): the list in memory
  stream     storyline.dedup(json.loads(line) for line in file, jobs=J): the file read as it goes
  datasketch MinHash(num_perm=128) of each text's word 5-shingles, MinHashLSH(threshold=0.45): insert
             every document, then query each (datasketch is not a Debian package: when it cannot be
             imported the bench says so and measures storyline alone)
  index      DedupIndex.insert_many of all documents, then idx.query(text) for 2,000 single documents
             one call at a time (microseconds per call), and the same for a one-word text (the cost of the
             call itself: conversion, GIL release, lock, a trivial fingerprint)

Memory of an in-process step is the highest RSS above the RSS before it, sampled every 2 ms by a thread
(the C++ work runs without the GIL). It checks that storyline.dedup's groups equal the CLI's (the
annotated dup_group of each record) and prints the table; tee it to bench/results/python-DATE.txt.

Usage: /usr/bin/python3 bench/python_bench.py [SIZES...]   (default 10000 100000; needs build/release:
       cmake --preset release && cmake --build --preset release)
Environment: JOBS (default 2), STORYLINE_BENCH_DATA (default build/bench-data).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "release", "storyline")
DATA = os.environ.get("STORYLINE_BENCH_DATA", os.path.join(ROOT, "build", "bench-data"))
JOBS = int(os.environ.get("JOBS", "2"))
sys.path.insert(0, os.path.join(ROOT, "build", "release", "python"))  # the module built beside BIN
import storyline  # noqa: E402

try:
    from datasketch import MinHash, MinHashLSH
except ImportError:
    MinHash = None


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Peak:
    """The highest RSS above the one at entry, in MB, while the block runs; and its wall seconds."""

    def __enter__(self):
        self.base = self.peak = rss_bytes()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        self.start = time.perf_counter()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.mb = (self.peak - self.base) / 1e6


def corpus_path(n):
    path = os.path.join(DATA, f"news-{n}.jsonl")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        os.makedirs(DATA, exist_ok=True)
        subprocess.run([BIN, "generate", "-n", str(n), "--seed", "7", "--event-size", "8", "-o", path],
                       check=True, capture_output=True)
    return path


def shingles(text, n=5):
    words = text.lower().split()
    return [" ".join(words[i:i + n]).encode() for i in range(max(1, len(words) - n + 1))]


def row(name, n, mb, seconds, peak_mb, note=""):
    rate = n / seconds
    print(f"{name:<11} {n:>9,} {seconds:>9.2f} {rate:>11,.0f} {rate / JOBS:>12,.0f} {mb / seconds / JOBS:>10.1f}"
          f" {peak_mb:>9,.0f}  {note}")
    return rate


def bench(n):
    path = corpus_path(n)
    mb = os.path.getsize(path) / 1e6
    print(f"\n== {n:,} documents, {mb:.1f} MB, jobs {JOBS}")
    print(f"{'step':<11} {'documents':>9} {'seconds':>9} {'docs/s':>11} {'docs/s/core':>12} {'MB/s/core':>10}"
          f" {'peak MB':>9}")
    with tempfile.TemporaryDirectory() as out:
        annotated = os.path.join(out, "annotated.jsonl")
        start = time.perf_counter()
        subprocess.run([BIN, "dedup", path, "-q", "-o", os.path.join(out, "kept.jsonl"), "--annotate", annotated,
                        "--jobs", str(JOBS)], check=True)
        cli_seconds = time.perf_counter() - start
        cli_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KB -> MB (largest child)
        cli_rate = row("cli", n, mb, cli_seconds, cli_peak, "(child process; peak RSS of the largest child so far)")
        with open(annotated, encoding="utf-8") as f:
            cli_groups = [json.loads(line)["dup_group"] for line in f]

    with Peak() as load:
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
    row("load", n, mb, load.seconds, load.mb, "(json.loads into a list: the records a caller holds)")

    with Peak() as call:
        result = storyline.dedup(records, jobs=JOBS)
    rate = row("dedup", n, mb, call.seconds, call.mb, f"({rate_vs(call, n, cli_rate)} of the CLI's docs/s)")
    same = [result.ids[g] for g in result.groups] == cli_groups
    print(f"{'':<11} groups equal to the CLI's: {'yes' if same else 'NO'}; {result.num_duplicates:,} duplicates")

    with Peak() as stream:
        with open(path, encoding="utf-8") as f:
            streamed = storyline.dedup((json.loads(line) for line in f), jobs=JOBS)
    row("stream", n, mb, stream.seconds, stream.mb, f"({rate_vs(stream, n, cli_rate)} of the CLI's; json.loads included)")
    assert (streamed.groups == result.groups).all()

    if MinHash is None:
        print(f"{'datasketch':<11} not installed (it is not a Debian package; `pip install datasketch` to compare)")
    else:
        with Peak() as ds:
            lsh = MinHashLSH(threshold=0.45, num_perm=128)
            signatures = []
            for i, r in enumerate(records):
                m = MinHash(num_perm=128)
                m.update_batch(shingles(r["text"]))
                lsh.insert(str(i), m)
                signatures.append(m)
            for m in signatures:
                lsh.query(m)
        row("datasketch", n, mb, ds.seconds, ds.mb, f"(storyline.dedup is {ds.seconds / call.seconds:.0f}x faster)")
        del lsh, signatures

    texts = [r["text"] for r in records]
    keys = [str(r["id"]) for r in records]
    with Peak() as insert:
        idx = storyline.DedupIndex()
        idx.insert_many(keys, texts)
    row("index", n, mb, insert.seconds, insert.mb, "(DedupIndex.insert_many)")
    for label, probe in (("a document", lambda i: texts[i * 7919 % n]), ("one word", lambda i: "word")):
        calls = 2000
        start = time.perf_counter()
        for i in range(calls):
            idx.query(probe(i))
        micro = (time.perf_counter() - start) / calls * 1e6
        print(f"{'query':<11} {label}: {micro:,.1f} us per idx.query call ({calls:,} calls, one at a time)")


def rate_vs(step, n, cli_rate):
    return f"{n / step.seconds / cli_rate:.0%}"


if __name__ == "__main__":
    print(f"storyline {storyline.__version__} from {os.path.dirname(storyline.__file__)}; python {sys.version.split()[0]};"
          f" datasketch {'not installed' if MinHash is None else 'installed'}")
    for size in [int(s) for s in sys.argv[1:]] or [10000, 100000]:
        bench(size)
