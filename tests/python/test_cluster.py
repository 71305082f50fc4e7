"""storyline.cluster: the CLI's annotations, stories and threads for the same records."""
import numpy
import pytest

import storyline
from conftest import read_jsonl


def run_cli_cluster(cli, tmp_path, path, *options):
    out = {name: tmp_path / f"{name}.jsonl" for name in ("annotated", "stories", "threads")}
    cli("cluster", path, "-q", "-o", out["annotated"], "--stories", out["stories"], "--threads", out["threads"],
        *options)
    return {name: read_jsonl(p) for name, p in out.items()}


def assert_same_as_cli(result, expected):
    annotated = expected["annotated"]
    assert result.ids == [str(r["id"]) for r in annotated]
    assert result.dup_group == [r["dup_group"] for r in annotated]
    assert result.dup_of == [r["dup_of"] for r in annotated]
    assert result.story == [r["story_id"] for r in annotated]
    assert result.thread == [r["thread_id"] for r in annotated]
    assert result.language == [r["language"] for r in annotated]
    assert result.stories == expected["stories"]
    assert result.threads == expected["threads"]


def test_a_generated_corpus_gives_what_the_cli_gives(cli, corpus, tmp_path):
    path, records = corpus
    result = storyline.cluster(records)
    assert_same_as_cli(result, run_cli_cluster(cli, tmp_path, path))
    assert len(result.stories) > 100 and len(result.threads) > 10 and result.num_duplicates > 100


def test_the_seeds_share_a_thread_and_the_unrelated_do_not(cli, seeds, tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(__import__("json").dumps(r) + "\n" for r in seeds))
    result = storyline.cluster(seeds)
    assert_same_as_cli(result, run_cli_cluster(cli, tmp_path, path))
    assert result.thread[0] == result.thread[1]  # 2018 and 2025, Israel-Syria via Russia
    assert result.story[0] != result.story[1]
    assert len({result.thread[0], result.thread[2], result.thread[3]}) == 3
    thread = next(t for t in result.threads if t["thread_id"] == result.thread[0])
    assert thread["first_date"] == "2018-07-11" and thread["last_date"].startswith("2025")


def test_knobs_give_what_the_cli_options_give(cli, corpus, tmp_path):
    path, records = corpus
    result = storyline.cluster(records, story_threshold=0.3, thread_threshold=0.1, window_days=7,
                               dedup_threshold=0.6, lexicon="off")
    expected = run_cli_cluster(cli, tmp_path, path, "--story-threshold", "0.3", "--thread-threshold", "0.1",
                               "--window-days", "7", "--dedup-threshold", "0.6", "--lexicon", "off")
    assert_same_as_cli(result, expected)


def test_the_answer_does_not_depend_on_the_thread_count_or_the_batches(corpus):
    _, records = corpus
    one = storyline.cluster(records, jobs=1, batch_size=500)
    two = storyline.cluster(iter(records), jobs=2)
    assert (one.story, one.thread, one.stories, one.threads) == (two.story, two.thread, two.stories, two.threads)
    assert numpy.array_equal(one.similarity, two.similarity)


def test_a_headline_alone_is_a_document_and_an_empty_record_is_refused():
    result = storyline.cluster([{"id": "h", "title": "Floods close the northern railway line"}])
    assert result.story == ["s0"] and result.ids == ["h"]
    with pytest.raises(ValueError, match=r"^record 1 \(id 'x'\): missing_text: no 'text' field$"):
        storyline.cluster([{"id": "h", "title": "A headline"}, {"id": "x", "title": ""}])


def test_a_report_is_written_when_asked(corpus, tmp_path):
    _, records = corpus
    report = tmp_path / "report.html"
    storyline.cluster(records[:300], report=str(report))
    assert report.read_text().lstrip().lower().startswith("<!doctype html")
