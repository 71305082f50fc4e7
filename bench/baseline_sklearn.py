#!/usr/bin/python3
"""The scikit-learn baseline of issue #3, on the same labelled data as bench/cluster_quality.sh.

TfidfVectorizer (sublinear tf, English stop words) over title + text, then average-linkage
agglomerative clustering on cosine distance cut at a distance threshold: what
AgglomerativeClustering(metric="cosine", linkage="average", distance_threshold=...) computes, built
once per dataset with SciPy's linkage (the same algorithm) so that the threshold sweep does not
rebuild the tree. For each threshold it writes predictions that `storyline eval` scores, so both
systems are measured by the same code. It prints the best threshold per dataset, every dataset's F1 at
every threshold, and the best threshold shared by the three story datasets and by the two undated ones
(allsides_neus and ecbplus, as issue #3's reference figures are).

Usage: /usr/bin/python3 bench/baseline_sklearn.py [DATASETS_DIR]   (Debian: apt-get install python3-sklearn)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from scipy.cluster.hierarchy import fcluster, linkage
import numpy as np
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STORYLINE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
BIN = os.path.join(ROOT, "build", "release", "storyline")
SETS = [("allsides_neus", "story"), ("ecbplus", "story"), ("uci_headlines", "story"), ("timeline17", "thread")]
THRESHOLDS = [0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def load(name):
    docs = []
    with open(os.path.join(DATA, name, "docs.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            text = ((d.get("title") or "") + "\n" + (d.get("text") or "")).strip()
            if text:
                docs.append((d["id"], text))
    return docs


def bcubed_f1(gold_path, ids, labels):
    """B-cubed F1 of predicted labels (one per id), scored by `storyline eval`, the code that scores storyline."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for doc_id, label in zip(ids, labels):
            f.write(json.dumps({"id": doc_id, "pred": int(label)}) + "\n")
    try:
        out = subprocess.run([BIN, "eval", "--json", "--gold", gold_path, "--pred", f.name, "--pred-field", "pred"],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return json.loads(out)["bcubed"]["f1"]


def main():
    results = {}
    for name, level in SETS:
        docs = load(name)
        start = time.time()
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform([t for _, t in docs])
        # Rows are L2-normalised, so cosine distance is 1 - X X^T (a sparse product, not n^2 dense dots).
        distance = 1.0 - (matrix @ matrix.T).toarray()
        np.fill_diagonal(distance, 0.0)
        np.clip(distance, 0.0, 2.0, out=distance)
        tree = linkage(squareform(distance, checks=False), method="average")
        del distance
        gold = os.path.join(DATA, name, "docs.jsonl")
        for threshold in THRESHOLDS:
            # Clusters whose merge distance stays below 1 - threshold, as sklearn's distance_threshold.
            labels = fcluster(tree, t=1.0 - threshold - 1e-12, criterion="distance")
            results[(name, threshold)] = bcubed_f1(gold, [doc_id for doc_id, _ in docs], labels)
        seconds = time.time() - start
        best = max(THRESHOLDS, key=lambda t: results[(name, t)])
        print(f"{name:15s} {level:7s} best similarity threshold {best:.2f}: B-cubed F1 {results[(name, best)]:.4f}"
              f"  ({len(docs)} docs, {seconds:.1f} s for the sweep of {len(THRESHOLDS)})", flush=True)
    print("B-cubed F1 per threshold: " + " ".join(f"{t:g}" for t in THRESHOLDS))
    for name, _ in SETS:
        print(f"  {name:15s} " + " ".join(f"{results[(name, t)]:.3f}" for t in THRESHOLDS))
    stories = [n for n, level in SETS if level == "story"]
    # One threshold for the three story sets; and for the two undated ones (issue #3's reference figures).
    for group in (stories, ["allsides_neus", "ecbplus"]):
        shared = max(THRESHOLDS, key=lambda t: sum(results[(n, t)] for n in group))
        print(f"shared story threshold {shared:.2f}: " +
              ", ".join(f"{n} {results[(n, shared)]:.4f}" for n in group))


if __name__ == "__main__":
    main()
