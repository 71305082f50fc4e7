#!/usr/bin/python3
"""Builds storyline's cross-language lexicon from the bilingual dictionaries Debian installs.

Maps content words of Spanish, French, Italian and German to one English word each (the
pivot), so that articles in different languages on one thread share features. Sources, all read from
the installed packages (nothing is downloaded):
  - FreeDict (dict-freedict-XXX-eng, dict-freedict-eng-XXX): dictd files under /usr/share/dictd;
    a headword's first sense, first translation; the eng-XXX dictionaries inverted.
  - Apertium bilingual transducers (apertium-eng-spa, apertium-fr-es, apertium-spa-ita), printed with
    lttoolbox's lt-print and walked for lemma pairs; French and Italian reach English through Spanish.
Each source votes for its translations (see main); a word's pivot is the one with the most votes. Only single words of letters are kept (no phrases, numbers or abbreviations), and words
that are their own translation are dropped (they already meet as themselves).

Output (stdout or -o FILE), UTF-8 text: "# storyline lexicon 1" then one "lang<TAB>word<TAB>pivot" line
per entry, sorted; a "# coverage" comment per language says how many entries came from each source.
storyline normalises, accent-folds and stems the words itself when it loads the file.

Usage: build_lexicon.py [-o FILE] [--dictd DIR] [--apertium DIR]
"""
import argparse
import collections
import gzip
import os
import re
import shutil
import subprocess
import sys

LANGS = {"es": "spa", "fr": "fra", "it": "ita", "de": "deu"}  # the languages guess_language tells
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)?$")  # letters, at most one inner hyphen
MAX_PER_LANGUAGE = 25000  # the largest (German) FreeDict has 500k headwords, mostly compounds


def b64(text):
    value = 0
    for c in text:
        value = value * 64 + B64.index(c)
    return value


def dictd_entries(path):
    """(headword, [[translation, ...] per sense]) of a FreeDict dictd dictionary."""
    index, data = path + ".index", path + ".dict.dz"
    if not (os.path.exists(index) and os.path.exists(data)):
        return
    body = gzip.open(data).read()
    with open(index, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00database"):
                continue
            entry = body[b64(parts[1]):b64(parts[1]) + b64(parts[2])].decode("utf-8", "replace")
            lines = [x.strip() for x in entry.split("\n")[1:] if x.strip()]
            if not lines:
                continue
            senses = []
            for sense in lines:
                sense = re.sub(r"\([^)]*\)|<[^>]*>|/[^/]*/", "", re.sub(r"^\d+\.\s*", "", sense))
                senses.append([t.strip() for t in re.split(r"[,;]", sense) if t.strip()])
            yield parts[0], senses


def att_pairs(path):
    """Lemma pairs (left, right) of an Apertium bilingual transducer, tags dropped."""
    if not os.path.exists(path):
        return set()
    if shutil.which("lt-print") is None:
        # The transducer is installed but cannot be read: a table built without it would quietly lose
        # most of the Spanish, French and Italian words (es 18k -> 4k), so stop here instead.
        sys.exit(f"build_lexicon.py: {path} needs lt-print to be read; install lttoolbox-dev")
    text = subprocess.run(["lt-print", path], check=True, capture_output=True, text=True).stdout
    result = set()
    for section in text.split("\n--\n"):
        arcs, finals = collections.defaultdict(list), set()
        for line in section.split("\n"):
            f = [x for x in line.split("\t") if x != ""]
            if 1 <= len(f) <= 2:
                finals.add(int(f[0]))
            elif len(f) >= 4:
                a, b = (("" if s == "ε" or (s.startswith("<") and len(s) > 2) else s) for s in f[2:4])
                # Words of letters only: numbers, punctuation and phrases make the walk explode.
                if (a and not a.isalpha() and a != "-") or (b and not b.isalpha() and b != "-"):
                    continue
                arcs[int(f[0])].append((int(f[1]), a, b))
        memo, visiting, stack = {}, set(), [(0, 0)]
        while stack:  # post-order walk; a state's suffixes are the set of (left, right) to a final state
            s, i = stack.pop()
            if i == 0:
                if s in memo:
                    continue
                visiting.add(s)
            out = arcs.get(s, [])
            if i < len(out):
                stack.append((s, i + 1))
                t = out[i][0]
                if t not in memo and t not in visiting:
                    stack.append((t, 0))
                continue
            suffixes = {("", "")} if s in finals else set()
            for t, a, b in out:
                for x, y in memo.get(t, ()):
                    if len(x) < 40:
                        suffixes.add((a + x, b + y))
            memo[s] = suffixes
            visiting.discard(s)
        result |= memo.get(0, set())
    return result


def keep(word):
    return bool(WORD.match(word)) and 2 < len(word) < 30


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output")
    parser.add_argument("--dictd", default="/usr/share/dictd")
    parser.add_argument("--apertium", default="/usr/share/apertium")
    args = parser.parse_args()
    # Every source votes for its translations; a word's pivot is the translation with the most votes
    # (ties: the first seen), so "régimen" takes "regime" (Apertium offers "diet" and "regime",
    # FreeDict's English-Spanish lists régimen under "regime") and "gobierno" takes "government".
    votes = {lang: collections.defaultdict(collections.Counter) for lang in LANGS}
    origin = {lang: {} for lang in LANGS}

    def vote(lang, word, pivot, weight, source):
        word, pivot = word.strip(), pivot.strip()
        if not (keep(word) and keep(pivot)) or word.lower() == pivot.lower():
            return
        proper = word[:1].isupper() and pivot[:1].isupper()
        key, pivot = (word, pivot) if proper else (word.lower(), pivot.lower())
        votes[lang][key][pivot] += weight
        origin[lang].setdefault(key, source)

    for lang, code in LANGS.items():
        for head, senses in dictd_entries(os.path.join(args.dictd, f"freedict-{code}-eng")) or ():
            for s, sense in enumerate(senses):
                for t, pivot in enumerate(sense):
                    vote(lang, head, pivot, 2.0 if s == t == 0 else 1.0 if s == 0 else 0.5, "freedict")
        for head, senses in dictd_entries(os.path.join(args.dictd, f"freedict-eng-{code}")) or ():
            for s, sense in enumerate(senses):
                for word in sense:
                    vote(lang, word, head, 1.0 if s == 0 else 0.5, "freedict-inverted")

    # Apertium: Spanish-English directly; French and Italian through Spanish.
    ap = args.apertium
    for spa, eng in sorted(att_pairs(os.path.join(ap, "apertium-eng-spa", "spa-eng.autobil.bin"))):
        vote("es", spa, eng, 2.0, "apertium")
    best = {lang: {} for lang in LANGS}
    spanish = {w: c.most_common(1)[0][0] for w, c in votes["es"].items()}
    for lang, path in (("fr", "apertium-fr-es/fr-es.autobil.bin"), ("it", "apertium-spa-ita/ita-spa.autobil.bin")):
        for word, spa in sorted(att_pairs(os.path.join(ap, path))):
            if spa in spanish:
                vote(lang, word, spanish[spa], 2.0, "apertium")

    source = {lang: collections.Counter() for lang in LANGS}
    for lang in LANGS:
        # Most votes first; the cap keeps the most supported words of a very large dictionary.
        ranked = sorted(votes[lang].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        for word, counter in ranked[:MAX_PER_LANGUAGE]:
            best[lang][word] = counter.most_common(1)[0][0]  # Counter keeps first-seen order on ties
            source[lang][origin[lang][word]] += 1

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    out.write("# storyline lexicon 1\n")
    for lang in LANGS:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(source[lang].items()))
        out.write(f"# coverage {lang}: {len(best[lang])} words (first source: {counts or 'no dictionary installed'})\n")
    for lang in LANGS:
        for word, pivot in sorted(best[lang].items()):
            out.write(f"{lang}\t{word}\t{pivot}\n")
    if args.output:
        out.close()


if __name__ == "__main__":
    main()
