"""storyline.Feed: what `storyline stream` answers for the same records, durably."""
import json

import pytest

import storyline
from conftest import read_jsonl

FIELDS = ("dup_group", "dup_of", "story_id", "thread_id", "new_story", "new_thread")


def test_assignments_equal_the_stream_command(cli, corpus, tmp_path):
    path, records = corpus
    records = records[:600]
    stdin = "".join(json.dumps(r) + "\n" for r in records)
    streamed = cli("stream", "-q", "--sync-normal", "--db", tmp_path / "cli.db", stdin=stdin).stdout
    expected = [json.loads(line) for line in streamed.splitlines()]
    with storyline.Feed(tmp_path / "py.db", sync=False) as feed:
        got = [feed.add(r) for r in records[:300]] + feed.add_many(records[300:])
    assert [[a[f] for f in FIELDS] for a in got] == [[e[f] for f in FIELDS] for e in expected]
    assert sum(a["dup_of"] is not None for a in got) > 20


def test_relinking_equals_the_stream_command_and_moves_stories(cli, corpus, tmp_path):
    _, records = corpus
    records = records[:600]
    stdin = "".join(json.dumps(r) + "\n" for r in records)
    cli("stream", "-q", "--sync-normal", "--encoder", "off", "--thread-relink", "2", "--db", tmp_path / "cli.db",
        stdin=stdin)
    with storyline.Feed(tmp_path / "py.db", sync=False, thread_relink=2, thread_relink_quiet=0) as feed:
        answered = feed.add_many(records)
    # Both relinked when they closed too; reopened, the two states have the same threads.
    with storyline.Feed(tmp_path / "py.db") as feed:
        now = [feed.get(r["id"])["thread_id"] for r in records]
    assert sum(a["thread_id"] != t for a, t in zip(answered, now)) > 0  # relinking moved stories
    with storyline.Feed(tmp_path / "cli.db") as feed:
        assert [feed.get(r["id"])["thread_id"] for r in records] == now


def test_the_state_survives_and_answers_again(corpus, tmp_path):
    _, records = corpus
    db = tmp_path / "state.db"
    with storyline.Feed(db, sync=False) as feed:
        first = feed.add(records[0])
        assert first["status"] == "added" and first["story_id"] == "s1"
        feed.add(records[1])
    with storyline.Feed(db) as feed:
        assert len(feed) == 2
        again = feed.add(records[0])
        assert again["status"] == "existing" and again["story_id"] == first["story_id"]
        assert feed.get(records[1]["id"])["story_id"]
        assert feed.get("nobody") is None
        other = dict(records[0], text="another text under the same id, with other words")
        with pytest.raises(ValueError, match="another title or text; nothing was added"):
            feed.add(other)
        assert feed.lookup(records[2])["status"] == "lookup" and len(feed) == 2
        feed.remove(records[1]["id"])
        with pytest.raises(KeyError):
            feed.remove(records[1]["id"])
        assert feed.counts()["documents"] == 1
    with pytest.raises(ValueError, match="the feed is closed"):
        feed.add(records[3])


def test_a_bad_record_is_refused_with_the_cli_message(tmp_path):
    with storyline.Feed(tmp_path / "state.db", sync=False) as feed:
        with pytest.raises(ValueError, match=r"^record 0 \(id 'z'\): empty_text: the text is empty$"):
            feed.add({"id": "z", "text": ""})
        assert len(feed) == 0
