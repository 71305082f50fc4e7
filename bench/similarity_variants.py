#!/usr/bin/python3
"""Ideas for issue #3's story quality, tried in scikit-learn/SciPy before any C++ (all pairs, dense).

Each variant changes the similarity that average linkage cuts, on a plain TF-IDF (sublinear tf, English
stop words, title counted twice, min_df 2, max_df 0.5: close to storyline's terms, not the same), and is
cut at a sweep of thresholds; the B-cubed F1 of every cut is printed, so both the best cut per dataset
and the cut shared by several datasets can be read off:

  plain        cosine
  scale K      local scaling: cos(x, y) / sqrt(r(x) r(y)), r = mean cosine of the K nearest neighbours
  snn K        0.5 cosine + 0.5 shared-nearest-neighbour overlap of the K nearest (Jarvis-Patrick)
  lsa D        0.7 cosine + 0.3 cosine of a D-dimensional truncated SVD (latent semantic analysis)
  fasttext W   (1 - W/100) cosine + W/100 cosine of document vectors: the IDF-weighted mean of word
               vectors that fastText (Debian's fasttext, skipgram, 100 dimensions, 10 epochs) learns from
               the dataset itself (no pretrained model may be downloaded)
  wordnet W    (1 - W/100) cosine + W/100 cosine of word senses: each word's first two WordNet synsets and
               their first hypernyms (Debian's python3-nltk and wordnet-base), so "slams" may meet "criticizes"
  entities A   cosine times A/100 + (1 - A/100) min(1, entity cosine / 0.1) when both documents name
               entities (runs of capitalised words and numbers): sister events of one kind (two
               earthquakes, two rehab stays) share words but not names or figures
  background K cosine minus the corpus's background: the median, over documents, of each one's cosine
               with its K-th most similar document (what `cluster --background-rank K` adds to the
               undated story threshold, there from the pruned search's candidates)
  nearest N    no clustering: N documents (a fixed sample) whose most similar document is in another
               gold event, with it and their own event's documents
  silhouette   plain, and the mean silhouette (cosine distance) of each cut: does the cut with the best
               silhouette, found without labels, fall where the best B-cubed F1 is? Printed twice: exact
               ("sil") and as a scalable engine could compute it ("knn"): the nearest other cluster is
               looked for only among the clusters of a document's 10 nearest neighbours.

Every variant also prints the share of documents whose most similar document (by that variant's
similarity) is in the same gold event: a ceiling on what any clustering of that similarity can do.

Usage: /usr/bin/python3 bench/similarity_variants.py VARIANT [PARAM] DATASET...   (e.g. scale 10 ecbplus)
Datasets are read from $STORYLINE_DATASETS or ../shared/datasets. Needs python3-sklearn and
build/release/storyline (its `eval` scores every cut).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import squareform
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from baseline_sklearn import bcubed_f1  # bench/ is the script's directory, so on the import path

DATA = os.environ.get("STORYLINE_DATASETS", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                         "..", "shared", "datasets"))



def load(name):
    ids, texts, labels = [], [], []
    with open(os.path.join(DATA, name, "docs.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            title, text = d.get("title") or "", d.get("text") or ""
            joined = (title + "\n" + title + "\n" + text).strip() if text != title else title
            if joined:
                ids.append(d["id"])
                texts.append(joined)
                labels.append(d["label"])
    return ids, texts, labels


def fasttext_vectors(texts, vectorizer, matrix):
    """Rows: the IDF-weighted mean of each document's fastText word vectors, trained on texts."""
    analyze = vectorizer.build_analyzer()
    vocabulary = vectorizer.get_feature_names_out()
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            for text in texts:
                f.write(" ".join(analyze(text)) + "\n")
        model = os.path.join(work, "model")
        subprocess.run(["fasttext", "skipgram", "-input", corpus, "-output", model, "-dim", "100", "-epoch", "10",
                        "-minCount", "2", "-thread", "2", "-seed", "1", "-verbose", "0"], check=True)
        printed = subprocess.run(["fasttext", "print-word-vectors", model + ".bin"], input="\n".join(vocabulary),
                                 capture_output=True, text=True, check=True).stdout
    words = np.array([[float(x) for x in line.split()[1:]] for line in printed.splitlines()])
    idf = vectorizer.idf_
    weighted = (matrix > 0).astype(float).multiply(idf[None, :])
    return normalize(np.asarray(weighted @ words))


# Debian's wordnet-base lacks the lexnames file that NLTK's reader opens; it is the fixed list of
# WordNet's lexicographer files, written beside links to the rest.
LEXNAMES = ("adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
            "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
            "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
            "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
            "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
            "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
            "adj.ppl").split()


def wordnet_rows(texts, vectorizer):
    """TF-IDF rows over word senses: each word's first two synsets and their first hypernyms."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    part = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}
    with tempfile.TemporaryDirectory() as folder:
        for name in os.listdir("/usr/share/wordnet"):
            os.symlink(os.path.join("/usr/share/wordnet", name), os.path.join(folder, name))
        with open(os.path.join(folder, "lexnames"), "w", encoding="utf-8") as f:
            for i, name in enumerate(LEXNAMES):
                f.write(f"{i:02d}\t{name}\t{part[name.split('.')[0]]}\n")
        with warnings.catch_warnings():  # "multilingual functions are not available": not needed here
            warnings.simplefilter("ignore")
            wordnet = WordNetCorpusReader(folder, None)
        senses = {}

        def concepts(word):
            if word not in senses:
                synsets = wordnet.synsets(word)[:2]
                senses[word] = [s.name() for s in synsets] + [h.name() for s in synsets for h in s.hypernyms()[:1]]
            return senses[word]

        analyze = vectorizer.build_analyzer()
        return TfidfVectorizer(analyzer=lambda text: [c for w in analyze(text) for c in concepts(w)],
                               sublinear_tf=True, min_df=2, max_df=0.5).fit_transform(texts)


ENTITY = re.compile(r"(?:[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)|\d[\d,.]*")


def entity_cosine(texts):
    names = TfidfVectorizer(analyzer=lambda text: [m.group(0) for m in ENTITY.finditer(text)], sublinear_tf=True,
                            min_df=2, max_df=0.5).fit_transform(texts)
    return gram(names), np.asarray(names.getnnz(axis=1)) > 0


def gram(rows):
    """All-pairs dot products of the (unit) rows, dense, with a zero diagonal."""
    product = rows @ rows.T
    product = product.toarray() if hasattr(product, "toarray") else np.asarray(product)
    np.fill_diagonal(product, 0.0)
    return product


def blend(cosine, other, weight):
    return (1.0 - weight) * cosine + weight * gram(other)


def similarity(variant, param, matrix, texts=None, vectorizer=None):
    cosine = gram(matrix)
    if variant in ("plain", "silhouette", "nearest"):
        return cosine
    if variant == "scale":
        r = np.sort(cosine, axis=1)[:, -param:].mean(axis=1)
        return cosine / np.sqrt(np.outer(r, r) + 1e-9)
    if variant == "background":
        return cosine - np.median(-np.partition(-cosine, param - 1, axis=1)[:, param - 1])
    if variant == "snn":
        nearest = np.argsort(-cosine, axis=1)[:, :param]
        member = np.eye(len(cosine))
        member[np.arange(len(cosine))[:, None], nearest] = 1.0
        return 0.5 * cosine + 0.5 * (member @ member.T) / (param + 1)
    if variant == "lsa":
        return blend(cosine, normalize(TruncatedSVD(param, random_state=0).fit_transform(matrix)), 0.3)
    if variant == "fasttext":
        return blend(cosine, fasttext_vectors(texts, vectorizer, matrix), param / 100)
    if variant == "wordnet":
        return blend(cosine, wordnet_rows(texts, vectorizer), param / 100)
    if variant == "entities":
        names, has = entity_cosine(texts)
        both = np.outer(has, has)
        veto = param / 100 + (1.0 - param / 100) * np.minimum(1.0, names / 0.1)
        return np.where(both, cosine * veto, cosine)
    sys.exit(f"unknown variant {variant}")


def knn_silhouette(cosine, labels, k=10):
    """Mean silhouette (cosine distance) with the other cluster sought among the k nearest neighbours'."""
    labels = np.asarray(labels) - 1
    n, clusters = len(labels), labels.max() + 1
    member = csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(clusters, n))
    size = np.bincount(labels, minlength=clusters).astype(float)
    with_self = cosine + np.eye(n)
    mean_to = np.asarray(member @ with_self).T / size  # mean cosine of each document to each cluster, itself included
    own = labels
    a = np.where(size[own] > 1, (mean_to[np.arange(n), own] * size[own] - 1.0) / np.maximum(size[own] - 1, 1), np.nan)
    nearest = np.argsort(-cosine, axis=1)[:, :k]
    other = labels[nearest]
    b_sim = np.where(other != own[:, None], mean_to[np.arange(n)[:, None], other], -np.inf).max(axis=1)
    b_sim = np.maximum(b_sim, 0.0)
    da, db = 1.0 - a, 1.0 - b_sim
    return float(np.where(np.isnan(a), 0.0, (db - da) / np.maximum(da, db)).mean())


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    variant = args.pop(0)
    param = int(args.pop(0)) if variant in ("background", "scale", "snn", "lsa", "fasttext", "wordnet", "entities", "nearest") else 0
    for name in args:
        ids, texts, gold = load(name)
        vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2, max_df=0.5)
        matrix = vectorizer.fit_transform(texts)
        sim = similarity(variant, param, matrix, texts, vectorizer)
        gold = np.asarray(gold)
        nearest = sim.argmax(axis=1)
        same = gold[nearest] == gold
        _, event, event_size = np.unique(gold, return_inverse=True, return_counts=True)
        alone = event_size[event] == 1  # no other document of its event
        print(f"{name} {variant} {param or ''}: the most similar document is in the same gold event for "
              f"{same.mean():.2%} of {len(gold)} documents ({(~same & ~alone).sum()} not, {alone.sum()} alone "
              "in their event)")
        if variant == "nearest":
            first_line = [text.split("\n")[0][:100] for text in texts]
            for i in np.random.default_rng(3).choice(np.flatnonzero(~same & ~alone), param, replace=False):
                print(f"  {first_line[i]}\n    nearest  {sim[i, nearest[i]]:.2f} {first_line[nearest[i]]}")
                for j in np.flatnonzero(gold == gold[i]):
                    if j != i:
                        print(f"    same event {sim[i, j]:.2f} {first_line[j]}")
            continue
        top = sim.max() + 1.0  # distances must be non-negative; a cut at similarity t is a cut at top - t
        distance = top - sim
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(distance, checks=False), method="average")
        cosine_distance = None
        if variant == "silhouette":
            cosine_distance = np.clip(1.0 - sim, 0.0, 2.0)
            np.fill_diagonal(cosine_distance, 0.0)
        thresholds = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]
        cells = []
        for t in thresholds:
            labels = fcluster(tree, t=top - t, criterion="distance")
            cell = f"{t:g}:{bcubed_f1(os.path.join(DATA, name, 'docs.jsonl'), ids, labels):.3f}"
            if cosine_distance is not None and 1 < len(set(labels)) < len(labels):
                cell += (f"(sil {silhouette_score(cosine_distance, labels, metric='precomputed'):.3f}"
                         f" knn {knn_silhouette(sim, labels):.3f})")
            cells.append(cell)
        print(f"{name} {variant} {param or ''}: " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
