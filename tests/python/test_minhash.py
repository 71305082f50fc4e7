"""storyline.minhash: numpy signatures whose agreement estimates Jaccard (fixed seeds, stated
tolerance)."""
import numpy
import pytest

import storyline


def test_shape_type_and_determinism():
    texts = ["the quick brown fox jumps over the lazy dog " * 3, "another text", ""]
    sig = storyline.minhash(texts, num_perm=64)
    assert sig.shape == (3, 64) and sig.dtype == numpy.uint32
    assert numpy.array_equal(sig, storyline.minhash(texts, num_perm=64, jobs=1))
    assert not numpy.array_equal(sig, storyline.minhash(texts, num_perm=64, seed=2))
    assert numpy.all(sig[2] == 0xFFFFFFFF)  # no shingle: every bin empty
    assert storyline.jaccard(sig[0], sig[0]) == 1.0


@pytest.mark.parametrize("shared", [20, 50, 80])
def test_agreement_estimates_the_jaccard_of_the_shingle_sets(shared):
    # Unigram sets of 100 distinct words each, `shared` in common: J = shared / (200 - shared).
    # With 1024 values the estimate's standard deviation is at most 0.016; the tolerance is 4 of them.
    a = [f"a{i}" for i in range(100)]
    b = a[:shared] + [f"b{i}" for i in range(100 - shared)]
    sig = storyline.minhash([" ".join(a), " ".join(b)], num_perm=1024, ngram=1, seed=7)
    assert abs(storyline.jaccard(sig[0], sig[1]) - shared / (200 - shared)) < 0.064


def test_bad_arguments():
    with pytest.raises(ValueError):
        storyline.minhash(["x"], num_perm=0)
    with pytest.raises(ValueError, match="shingle must be word or char"):
        storyline.minhash(["x"], shingle="line")
    with pytest.raises(TypeError, match="text 1"):
        storyline.minhash(["x", 3])
    with pytest.raises(ValueError):
        storyline.jaccard([1, 2], [1])
