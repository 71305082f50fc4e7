"""storyline: near-duplicates, stories and story threads, from Python.

    import storyline
    result = storyline.dedup(texts_or_records)        # result.groups, result.keep, result.similarity
    found = storyline.cluster(records)                # found.story, found.thread, found.stories, ...
    idx = storyline.DedupIndex(threshold=0.8, num_perm=128)
    idx.insert("a", text); idx.query(other_text)      # -> ["a"]

The engine is the C++ library of the storyline command line; see help(storyline.dedup) and the
README's Python section.
"""

from ._storyline import (
    ClusterResult,
    CorruptIndexError,
    DedupIndex,
    DedupResult,
    Feed,
    cluster,
    dedup,
    minhash,
)

__version__ = "0.1.0"
__all__ = [
    "ClusterResult",
    "CorruptIndexError",
    "DedupIndex",
    "DedupResult",
    "Feed",
    "cluster",
    "dedup",
    "jaccard",
    "minhash",
]


def jaccard(a, b) -> float:
    """Estimated Jaccard similarity of two MinHash signatures (rows of storyline.minhash): the share
    of positions where they agree."""
    import numpy

    a, b = numpy.asarray(a), numpy.asarray(b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError("two signatures of the same, non-zero length are expected")
    return float(numpy.count_nonzero(a == b)) / a.size
