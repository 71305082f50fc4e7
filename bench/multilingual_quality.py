#!/usr/bin/python3
"""Do articles in Spanish, French, Italian and German cluster as well as English ones?

Runs `storyline cluster` (defaults, or the options given after the datasets directory) on the
semeval_pairs documents (SemEval-2022 Task 8: news articles in ten languages, no dates, no titles) and
scores its story decisions on the gold pairs, language by language, then on the cross-language pairs
(de-en, en-es, es-it, de-fr, en-pl, en-zh: one row per pair of languages). A pair's gold
"overall" score runs from 1 (very similar) to 4 (very dissimilar); a pair counts as one story when it is
at most 1.5 and as two when it is at least 2.5; the pairs between are left out (somewhat similar: the
annotators disagree whether that is one event). Precision, recall and F1 of "same story_id" follow,
per language, as `storyline eval --pairs` computes them.

For reference, when scikit-learn is installed (Debian's python3-sklearn), the last two columns are for a
plain bag of words on the same pairs (TfidfVectorizer over all documents, sublinear tf, no stop words,
cosine of the two articles): its ROC AUC, how separable a language's pairs are for any term-based
method whatever the threshold, and its best F1 at a cosine threshold chosen for that language on these
very pairs (an oracle: no clustering gets to pick its threshold per language from the answers). A
language that scores low there is hard in this data, not for storyline alone.

Usage: bench/multilingual_quality.py [DATASETS_DIR] [--show LANG] [cluster options...]
(needs build/release/storyline). --show LANG also prints that language's false positives: the pairs
that gold calls two stories and storyline put in one, with the story's size and each article's start.
"""
import collections
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "release", "storyline")
SAME, DIFFERENT = 1.5, 2.5  # gold "overall" score bounds of the two classes


def reference_auc(texts, by_lang):
    """Per language, (ROC AUC, best F1 at any threshold) of the plain TF-IDF cosine; {} without scikit-learn."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics import precision_recall_curve, roc_auc_score
    except ImportError:
        return {}
    ids = list(texts)
    row = {doc_id: i for i, doc_id in enumerate(ids)}
    matrix = TfidfVectorizer(sublinear_tf=True, min_df=2, max_df=0.5).fit_transform([texts[i] for i in ids])
    auc = {}
    for name, pairs in by_lang.items():
        labels = [p["label"] for p in pairs]
        if 0 < sum(labels) < len(labels):
            scores = [matrix[row[p["id1"]]].multiply(matrix[row[p["id2"]]]).sum() for p in pairs]
            precision, recall, _ = precision_recall_curve(labels, scores)
            f1 = max((2 * p * r / (p + r) for p, r in zip(precision, recall) if p + r > 0), default=0.0)
            auc[name] = (roc_auc_score(labels, scores), f1)
    return auc


def print_false_positives(annotated, pairs, texts):
    story = {}
    with open(annotated, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            story[doc["id"]] = doc["story_id"]
    size = collections.Counter(story.values())
    wrong = [p for p in pairs if p["label"] == 0 and story.get(p["id1"]) == story.get(p["id2"]) is not None]
    print(f"{len(wrong)} false positives (story size: first article | second article)")
    for p in wrong:
        starts = [" ".join(texts[i].split())[:70] for i in (p["id1"], p["id2"])]
        print(f"  {size[story[p['id1']]]}: {starts[0]} | {starts[1]}")


def main():
    args = sys.argv[1:]
    data = os.environ.get("STORYLINE_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
    if args and not args[0].startswith("-"):
        data = args.pop(0)
    show = None
    if len(args) >= 2 and args[0] == "--show":
        show = args[1]
        args = args[2:]
    folder = os.path.join(data, "semeval_pairs")
    if not os.path.exists(os.path.join(folder, "pairs.jsonl")):
        sys.exit(f"semeval_pairs not found under {data} (give the datasets directory as the first argument)")
    lang, texts = {}, {}
    with open(os.path.join(folder, "docs.jsonl"), encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            lang[doc["id"]] = doc.get("lang")
            texts[doc["id"]] = ((doc.get("title") or "") + "\n" + (doc.get("text") or "")).strip()
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "out.jsonl")
        subprocess.run([BIN, "cluster", os.path.join(folder, "docs.jsonl"), "-o", out, "-q", *args], check=True)
        by_lang = collections.defaultdict(list)
        with open(os.path.join(folder, "pairs.jsonl"), encoding="utf-8") as f:
            for line in f:
                pair = json.loads(line)
                l1, l2 = lang.get(pair["id1"]), lang.get(pair["id2"])
                score = pair["overall"]
                if l1 is None or l2 is None or SAME < score < DIFFERENT:
                    continue
                name = l1 if l1 == l2 else "-".join(sorted((l1, l2)))  # cross-language pairs: "en-es"
                by_lang[name].append({"id1": pair["id1"], "id2": pair["id2"], "label": 1 if score <= SAME else 0})
        auc = reference_auc(texts, by_lang)
        if show:
            print_false_positives(out, by_lang.get(show, []), texts)
        print(f"{'language':8s} {'pairs':>6s} {'same':>5s} {'precision':>9s} {'recall':>7s} {'F1':>6s}"
              f" {'TF-IDF AUC':>10s} {'best F1':>7s}")
        for name, pairs in sorted(by_lang.items(), key=lambda x: ("-" in x[0], -len(x[1]), x[0])):
            path = os.path.join(work, f"pairs.{name}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for pair in pairs:
                    f.write(json.dumps(pair) + "\n")
            result = json.loads(subprocess.run(
                [BIN, "eval", "--json", "--pairs", path, "--pred", out, "--pred-field", "story_id"],
                check=True, capture_output=True, text=True).stdout)
            same = sum(p["label"] for p in pairs)
            reference_auc_of, reference_f1 = auc.get(name, (math.nan, math.nan))
            print(f"{name:8s} {len(pairs):6d} {same:5d} {result['precision']:9.3f} {result['recall']:7.3f}"
                  f" {result['f1']:6.3f} {reference_auc_of:10.3f} {reference_f1:7.3f}", flush=True)


if __name__ == "__main__":
    main()
