"""Inflection-aware synonyms (issue #27): lemmatise, look the lemma up, re-inflect to the word's tag."""

from __future__ import annotations

import random
import socket
import subprocess
import sys

import pytest
from lemminflect import getAllInflections, getAllLemmas

from augcli.text import functional as F
from augcli.text import inflect, lexicon, safety
from augcli.text import transforms as T
from augcli.text.stopwords import ENGLISH

SAFE = T.Lexicon(lexicon.wordnet(), ENGLISH, safety.word_filter())


def replace_all(text: str, seed: int, lex: T.Lexicon = SAFE) -> str:
    tokens = F.tokenize(text)
    return "".join(T.synonym_replacement(tokens, F.word_positions(tokens), random.Random(seed), lex, 1.0))


def forms_of(lemma: str, upos: str, tag: str) -> set[str]:
    return set(getAllInflections(lemma, upos).get(tag, ()))


def test_running_gets_the_ing_form_of_a_verb_synonym_of_run():
    candidates = SAFE.lookup("running")
    assert "racing" in candidates and "race" not in candidates
    ing = {f for s in lexicon.wordnet()["run"] for f in forms_of(s, "VERB", "VBG")}
    for candidate in candidates:
        assert candidate.endswith("ing"), candidate
        assert candidate in ing or candidate in lexicon.wordnet()["running"], candidate
    for seed in range(20):
        out = replace_all("running", seed)
        assert out in candidates and out.endswith("ing")


def test_cities_gets_plural_nouns_and_a_past_tense_gets_past_tenses():
    assert SAFE.lookup("cities") == ("metropolises",)
    assert replace_all("cities", 0) == "metropolises"
    for candidate in SAFE.lookup("ran"):
        assert any(lemma != candidate for lemmas in getAllLemmas(candidate).values() for lemma in lemmas), candidate
        assert candidate in {f for s in lexicon.wordnet()["run"] for f in forms_of(s, "VERB", "VBD")}
    for candidate in SAFE.lookup("dogs"):
        assert candidate in {f for s in lexicon.wordnet()["dog"] for f in forms_of(s, "NOUN", "NNS")}
    assert SAFE.lookup("happier") == ("gladder",)


def test_base_forms_keep_their_table_entry():
    for word in ("run", "city", "quick", "dog", "happy"):
        assert SAFE.lookup(word) == lexicon.wordnet()[word]
    assert SAFE.lookup("zzxq") == ()


@pytest.mark.parametrize(("word", "check"), [("Running", str.istitle), ("RUNNING", str.isupper)])
def test_capitalisation_is_kept(word, check):
    for seed in range(10):
        out = replace_all(f"{word} fast", seed)
        first = out.split()[0]
        assert check(first) and first.lower() in SAFE.lookup("running"), out


def test_insertion_and_eda_use_the_inflected_candidates():
    tokens = F.tokenize("cities")
    for seed in range(10):
        out = T.random_insertion(tokens, F.word_positions(tokens), random.Random(seed), SAFE, 1.0)
        assert "".join(out).split() == ["metropolises", "cities"] or "".join(out).split() == ["cities", "metropolises"]


def test_the_same_seed_gives_the_same_copy_in_another_process():
    code = (
        "import random; from augcli.text import functional as F, lexicon, safety, transforms as T;"
        "from augcli.text.stopwords import ENGLISH;"
        "lex = T.Lexicon(lexicon.wordnet(), ENGLISH, safety.word_filter());"
        "t = F.tokenize('The dogs were running through cities and ran home happier');"
        "print(''.join(T.synonym_replacement(t, F.word_positions(t), random.Random(7), lex, 0.5)))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": h}
        ).stdout
        for h in ("0", "1", "2")  # the hash seed changes set order; the copy must not change
    }
    assert len(runs) == 1
    tokens = F.tokenize("The dogs were running through cities and ran home happier")
    here = "".join(T.synonym_replacement(tokens, F.word_positions(tokens), random.Random(7), SAFE, 0.5))
    assert runs.pop().strip() == here


def test_an_inflected_candidate_the_filter_excludes_never_enters():
    # a made-up excluded word: 'racing' is an inflected form of the excluded 'race'
    guard = safety.WordFilter({"race": ("test",)})
    lex = T.Lexicon(lexicon.wordnet(), ENGLISH, guard)
    assert "racing" not in lex.lookup("running") and "working" in lex.lookup("running")
    for seed in range(50):
        assert not guard.gained("running", replace_all("running", seed, lex))
    # and an irregular form the regular-inflection matcher would not catch is checked as a word too
    guard = safety.WordFilter({"ran": ("test",)})
    lex = T.Lexicon(lexicon.wordnet(), ENGLISH, guard)
    assert "ran" not in lex.lookup("went")


def test_inflection_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    inflect.readings.cache_clear()
    inflect.form.cache_clear()
    assert "racing" in inflect.candidates("running", lexicon.wordnet())
