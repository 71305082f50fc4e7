"""The README's Python examples run as written (from a directory holding the repository's datasets/),
and print what the README says they print."""
import contextlib
import io
import os
import re

from conftest import SOURCE_DIR


def python_blocks():
    readme = (SOURCE_DIR / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Python: `import storyline`"):]
    section = section[: section.index("\n## ")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_examples_run_and_print_what_they_say(tmp_path):
    blocks = python_blocks()
    assert len(blocks) == 4
    os.symlink(SOURCE_DIR / "datasets", tmp_path / "datasets")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        scope = {}
        for block in blocks:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block, "README.md", "exec"), scope)
            printed = [line.rstrip() for line in out.getvalue().splitlines()]
            # Each "# ..." comment line right after a print is one line of what it printed (the feed's
            # lines are not shown in the README).
            said = [line[2:].rstrip() for line in block.splitlines() if line.startswith("# ")]
            inline = [m.group(1) for m in re.finditer(r"print\(.*\)\s+# (.*)", block)]
            for expected in said + inline:
                assert expected in printed, f"README says {expected!r}; the example printed {printed}"
    finally:
        os.chdir(here)
    assert len(scope["deduped"]) == 2
    assert list(scope["crawl"]["dup_group"]).count("000_eaf6071b633d695b-mirror") == 2
    assert (tmp_path / "crawl.idx").exists() and (tmp_path / "news.db").exists()
