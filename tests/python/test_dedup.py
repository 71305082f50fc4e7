"""storyline.dedup: the CLI's groups for the same records, from lists, generators, texts; the knobs;
the errors, with the CLI's messages; the same answer on any thread count."""
import json
import threading

import numpy
import pytest

import storyline
from conftest import read_jsonl


def cli_groups(cli, tmp_path, path, *options):
    """Per record (input order): the id of its group representative, from `storyline dedup --annotate`."""
    annotated = tmp_path / "annotated.jsonl"
    cli("dedup", path, "-q", "-o", tmp_path / "kept.jsonl", "--annotate", annotated, *options)
    return [r["dup_group"] for r in read_jsonl(annotated)]


def python_groups(result):
    return [result.ids[g] for g in result.groups]


def test_groups_equal_the_cli_on_a_generated_corpus(cli, corpus, tmp_path):
    path, records = corpus
    result = storyline.dedup(records)
    assert len(result) == len(records)
    assert python_groups(result) == cli_groups(cli, tmp_path, path)
    # The corpus has planted copies: the comparison is not between two empty answers.
    assert result.num_duplicates > 100
    assert result.num_groups > 50
    assert int(numpy.count_nonzero(~result.keep)) == result.num_duplicates
    for i, g in enumerate(result.groups):
        assert result.keep[i] == (g == i)
        assert result.keep[g]
    assert numpy.all(result.similarity[result.keep] == 1.0)
    assert numpy.all(result.similarity[~result.keep] > 0.0)


@pytest.mark.parametrize(
    "knobs, options",
    [
        ({"threshold": 0.7, "num_perm": 64}, ["--threshold", "0.7", "--num-hashes", "64"]),
        ({"method": "simhash", "max_hamming": 3}, ["--method", "simhash", "--max-hamming", "3"]),
        ({"verify": "exact", "containment": 0.0, "boilerplate_df": 0.0},
         ["--verify", "exact", "--containment", "0", "--boilerplate-df", "0"]),
        ({"shingle": "char", "ngram": 7}, ["--shingle", "char", "--ngram", "7"]),
    ],
)
def test_knobs_give_what_the_cli_options_give(cli, corpus, tmp_path, knobs, options):
    path, records = corpus
    assert python_groups(storyline.dedup(records, **knobs)) == cli_groups(cli, tmp_path, path, *options)


def test_a_generator_is_read_in_batches_with_the_same_answer(corpus):
    path, records = corpus
    whole = storyline.dedup(records)
    pulled = []

    def lines():
        with open(path, encoding="utf-8") as f:
            for line in f:
                pulled.append(1)
                yield json.loads(line)

    streamed = storyline.dedup(lines(), batch_size=100)
    assert len(pulled) == len(records)
    assert numpy.array_equal(streamed.groups, whole.groups)
    assert numpy.array_equal(streamed.similarity, whole.similarity)


def test_plain_texts_are_records_whose_ids_are_their_positions():
    base = " ".join(f"word{i}" for i in range(80))
    texts = [base, "something else entirely, about the weather on a Tuesday in May", base + " extra"]
    result = storyline.dedup(texts)
    assert result.ids == ["0", "1", "2"]
    assert list(result.groups) == [2, 1, 2]  # the longer text represents its group
    assert list(result.keep) == [False, True, True]
    assert storyline.dedup([t.encode() for t in texts]).groups.tolist() == [2, 1, 2]


def test_the_answer_does_not_depend_on_the_thread_count(corpus):
    _, records = corpus
    one = storyline.dedup(records, jobs=1)
    two = storyline.dedup(records, jobs=2)
    assert numpy.array_equal(one.groups, two.groups)
    assert numpy.array_equal(one.similarity, two.similarity)


def test_calls_from_several_python_threads_at_once(corpus):
    _, records = corpus
    expected = storyline.dedup(records).groups
    answers, errors = [], []

    def work():
        try:
            answers.append(storyline.dedup(records).groups)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(answers) == 4
    assert all(numpy.array_equal(a, expected) for a in answers)


# A bad record and the line the CLI reads for it: the same issue, the same words.
BAD = [
    ({"id": "a", "text": 5}, '{"id": "a", "text": 5}', "wrong_type: field 'text' is not a string"),
    ({"id": "b"}, '{"id": "b"}', "missing_text: no 'text' field"),
    ({"id": "c", "text": "  \n"}, '{"id": "c", "text": "  \\n"}', "empty_text: the text is empty"),
    ({"id": 1.5, "text": "x"}, '{"id": 1.5, "text": "x"}',
     "wrong_type: field 'id' is a number that is not an integer (ids are strings or integers)"),
    ({"id": True, "text": "x"}, '{"id": true, "text": "x"}', "wrong_type: field 'id' is not a string"),
    ({"id": "d", "text": "x", "title": ["no"]}, '{"id": "d", "text": "x", "title": ["no"]}',
     "wrong_type: field 'title' is not a string"),
    ({"id": "e", "text": "x", "date": 2020}, '{"id": "e", "text": "x", "date": 2020}',
     "wrong_type: field 'date' is not a string"),
]


@pytest.mark.parametrize("record, line, message", BAD)
def test_a_bad_record_raises_value_error_with_the_cli_message(cli, tmp_path, record, line, message):
    good = {"id": "ok", "text": "a good record with enough words to be one"}
    with pytest.raises(ValueError) as raised:
        storyline.dedup([good, record])
    assert str(raised.value).startswith("record 1")
    assert str(raised.value).endswith(": " + message)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(good) + "\n" + line + "\n")
    strict = cli("dedup", path, "--strict", "-o", tmp_path / "out.jsonl", check=False)
    assert strict.returncode == 1
    assert f"{path}:2: {message}" in strict.stderr


def test_a_bad_record_names_its_id():
    with pytest.raises(ValueError, match=r"^record 0 \(id 'x7'\): empty_text"):
        storyline.dedup([{"id": "x7", "text": ""}])


def test_not_a_record_is_a_type_error():
    with pytest.raises(TypeError, match="record 1: a str, bytes or mapping"):
        storyline.dedup(["text one", 42])


def test_what_the_iterable_raises_arrives_unchanged():
    def broken():
        yield "one text"
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="the source broke"):
        storyline.dedup(broken(), batch_size=1)


def test_repairs_are_those_of_the_cli():
    # A lone surrogate (invalid in UTF-8) is replaced as the CLI replaces invalid bytes; a bad date is
    # dropped; a missing id becomes the position.
    result = storyline.dedup([{"text": "caf\udce9 au lait " * 20, "date": "yesterday"}, "other text here"])
    assert result.ids == ["0", "1"]


def test_unknown_or_bad_knobs_are_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'treshold'"):
        storyline.dedup(["a"], treshold=0.5)
    with pytest.raises(ValueError, match="method must be minhash or simhash"):
        storyline.dedup(["a"], method="lsh")
    with pytest.raises(ValueError, match="threshold"):
        storyline.dedup(["a"], threshold=1.5)
    with pytest.raises(TypeError, match="num_perm"):
        storyline.dedup(["a"], num_perm="many")


def test_an_empty_input_gives_an_empty_result():
    result = storyline.dedup([])
    assert len(result) == 0 and result.groups.shape == (0,) and result.num_groups == 0
