"""storyline.DedupIndex: datasketch's verbs, save and load (the CLI's index files), threads."""
import threading

import pytest

import storyline
from conftest import read_jsonl


def words(seed, n=120):
    import random

    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(5000)}" for _ in range(n))


def test_the_verbs_of_a_datasketch_user(tmp_path):
    idx = storyline.DedupIndex(threshold=0.8, num_perm=128)
    a, b = words(1), words(2)
    idx.insert("a", a)
    idx.insert("b", b)
    assert len(idx) == 2 and "a" in idx and "c" not in idx and 5 not in idx
    assert idx.query(a) == ["a"]
    assert idx.query(a + " one more word") == ["a"]
    assert idx.query(words(3)) == []
    (key, similarity), = idx.query(a, with_similarity=True)
    assert key == "a" and similarity == 1.0
    idx.remove("a")
    assert "a" not in idx and len(idx) == 1 and idx.query(a) == []
    with pytest.raises(KeyError):
        idx.remove("a")
    with pytest.raises(ValueError, match="key 'b' is in the index already"):
        idx.insert("b", a)
    with pytest.raises(TypeError, match="keys are str"):
        idx.insert(7, a)
    assert idx.params["threshold"] == 0.8 and idx.params["num_perm"] == 128


def test_save_and_load_keep_everything(tmp_path):
    idx = storyline.DedupIndex()
    texts = {f"k{i}": words(i) for i in range(200)}
    idx.insert_many(list(texts), list(texts.values()))
    idx.remove("k5")
    path = tmp_path / "index.bin"
    idx.save(path)
    again = storyline.DedupIndex.load(path)
    assert len(again) == 199 and again.keys() == idx.keys() and again.params == idx.params
    for key, text in texts.items():
        assert again.query(text) == idx.query(text) == ([] if key == "k5" else [key])


def test_a_damaged_file_is_refused(tmp_path):
    path = tmp_path / "index.bin"
    storyline.DedupIndex().save(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(storyline.CorruptIndexError):
        storyline.DedupIndex.load(path)
    with pytest.raises(OSError):
        storyline.DedupIndex.load(tmp_path / "missing.bin")


def test_the_cli_index_answers_as_the_cli(cli, corpus, tmp_path):
    # An index saved by `storyline dedup --save-index` loads here, and a document queried against it
    # finds the group the CLI gives it when deduplicated against the same index.
    path, records = corpus
    first, rest = tmp_path / "first.jsonl", tmp_path / "rest.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    first.write_text("".join(lines[:2000]))
    rest.write_text("".join(lines[2000:]))
    cli("dedup", first, "-q", "-o", tmp_path / "k1.jsonl", "--save-index", tmp_path / "index.bin")
    cli("dedup", rest, "-q", "-o", tmp_path / "k2.jsonl", "--index", tmp_path / "index.bin",
        "--annotate", tmp_path / "annotated.jsonl")
    idx = storyline.DedupIndex.load(tmp_path / "index.bin")
    assert len(idx) == 2000
    from_prior = 0
    for record, annotated in zip(records[2000:], read_jsonl(tmp_path / "annotated.jsonl")):
        found = idx.query(record["text"], title=record.get("title"))
        if annotated["dup_of"] is not None and annotated["dup_group"] in idx:
            from_prior += 1
            assert annotated["dup_group"] in found
    assert from_prior > 20


def test_threads_query_while_others_insert():
    idx = storyline.DedupIndex()
    texts = [words(i) for i in range(400)]
    idx.insert_many([f"k{i}" for i in range(200)], texts[:200])
    errors = []

    def query():
        try:
            for _ in range(3):
                for i in range(200):
                    assert idx.query(texts[i]) == [f"k{i}"]
        except Exception as e:
            errors.append(e)

    def insert():
        try:
            for i in range(200, 400):
                idx.insert(f"k{i}", texts[i])
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=query) for _ in range(3)] + [threading.Thread(target=insert)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(idx) == 400
    assert idx.query_many(texts[390:]) == [[f"k{i}"] for i in range(390, 400)]
