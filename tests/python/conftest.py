"""Fixtures of the Python module's tests: the CLI built beside it, and corpora written by its
`generate` command. ctest sets PYTHONPATH (the build tree's package) and STORYLINE_BIN."""
import json
import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    binary = os.environ.get("STORYLINE_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("STORYLINE_BIN must name the storyline binary (ctest sets it)")

    def run(*args, stdin=None, check=True):
        result = subprocess.run([binary, *map(str, args)], input=stdin, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"storyline {' '.join(map(str, args))} failed: {result.stderr}")
        return result

    return run


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def corpus(cli, tmp_path_factory):
    """3,000 generated documents with planted near-copies, dated (a path and its records)."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    cli("generate", "-n", 3000, "--seed", 11, "-o", path)
    return path, read_jsonl(path)


@pytest.fixture(scope="session")
def seeds():
    """The project's seed articles (one thread, 2018 and 2025) and two unrelated ones."""
    records = read_jsonl(SOURCE_DIR / "datasets" / "seeds.jsonl")
    records += read_jsonl(SOURCE_DIR / "datasets" / "unrelated.jsonl")
    return records
