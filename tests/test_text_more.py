"""ocr_errors, spelling_errors, word_split and antonym: exact outputs for a seed, what each may change,
nlpaug's counting, the shipped tables and the safe vocabulary."""

from __future__ import annotations

import gzip
import math
import random
import re
from pathlib import Path

import pytest

from augcli.core.recipe import RecipeError, parse_recipe
from augcli.text import functional as F
from augcli.text import lexicon, noise, safety
from augcli.text import transforms as T
from augcli.text.modality import edit_texts
from augcli.text.stopwords import ENGLISH

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "augcli" / "text" / "data"
SAFE = T.Lexicon(lexicon.wordnet(), ENGLISH, safety.word_filter())
OPEN = T.Lexicon(lexicon.wordnet(), ENGLISH)  # no word filter: what the safe vocabulary takes away shows
INVOICE = "Invoice 1050: modern cloud clerks will pay $35 on Monday."
LETTER = "Their government received the letters, BECAUSE it was beginning."


def edit(cls: type, text: str, seed: int, lexicon: T.Lexicon = SAFE, **params) -> str:
    tokens = F.tokenize(text)
    return "".join(cls(**params).edit(tokens, F.word_positions(tokens), random.Random(seed), lexicon))


def words(text: str) -> list[str]:
    tokens = F.tokenize(text)
    return [tokens[i] for i in F.word_positions(tokens)]


def separators(text: str) -> list[str]:
    tokens = F.tokenize(text)
    return [t for i, t in enumerate(tokens) if i not in F.word_positions(tokens)]


def section(transform: str, extra: str = "", base_dir: Path | None = None):
    return parse_recipe(f"text:\n{extra}  transforms:\n    - {transform}\n", "r.yaml", base_dir=base_dir).sections[
        "text"
    ]


@pytest.mark.parametrize(
    ("share", "eligible", "least", "most", "count"),
    [
        (0.3, 10, 1, 10, 3),
        (0.28, 25, 1, 10, 7),  # 0.28 x 25 is 7.000000000000001 in floating point
        (0.3, 11, 1, 10, 4),
        (0.0, 5, 1, 10, 1),
        (1.0, 50, 1, 10, 10),
        (0.5, 0, 1, 10, 0),
        (0.1, 3, 0, 9, 1),
    ],
)
def test_aug_count_is_nlpaugs(share, eligible, least, most, count):
    assert T.aug_count(share, eligible, least, most) == count


# --- ocr_errors ---------------------------------------------------------------------------------------


def misreadings(word: str) -> re.Pattern:
    """Every way the table lets a word be misread: each glyph as itself or as one it looks like."""
    parts, at = [], 0
    for start, end in noise.ocr_spans(word):
        parts.append(re.escape(word[at:start]))
        parts.append("(?:" + "|".join(map(re.escape, (word[start:end], *noise.OCR[word[start:end]]))) + ")")
        at = end
    parts.append(re.escape(word[at:]))
    return re.compile("".join(parts))


def test_ocr_errors_for_a_seed():
    assert edit(noise.OcrErrors, INVOICE, 7) == "Invoice 1050: nnodem cloud clerks vvi1l poy $35 on Monday."
    assert edit(noise.OcrErrors, INVOICE, 7, aug_word_p=1.0, aug_char_p=0.5) == (
        "1nv01cc 70S0: rnoclem dovd dcrks vvjll poy $85 ori Monclov."
    )


def test_ocr_table_pairs_work_both_ways_and_keep_a_word_one_word():
    for a, b in noise.OCR_PAIRS:
        assert b in noise.OCR[a] and a in noise.OCR[b]
        assert re.fullmatch(r"[A-Za-z0-9]+", a) and re.fullmatch(r"[A-Za-z0-9]+", b)
    assert noise.ocr_spans("corn") == [(0, 1), (1, 2), (2, 4)]  # rn is one glyph (read as m)
    assert noise.ocr_spans("clock") == [(0, 2), (2, 3), (3, 4)]  # cl before c; k is never misread
    assert noise.OCR["0"] == ("O", "o") and noise.OCR["m"] == ("nn", "rn") and noise.OCR["w"] == ("vv",)


@pytest.mark.parametrize("params", [{}, {"aug_word_p": 1.0, "aug_char_p": 1.0}, {"aug_word_p": 0.5, "aug_char_max": 1}])
def test_ocr_errors_change_only_table_glyphs_and_keep_the_words(params):
    text = "Modern clerks will rewrite 1050 old invoices in 5 cold rooms with William and OLIVIA"
    eligible = [w for w in words(text) if noise.ocr_spans(w)]
    for seed in range(40):
        out = edit(noise.OcrErrors, text, seed, **params)
        assert len(words(out)) == len(words(text)) and separators(out) == separators(text)
        changed = [(b, a) for b, a in zip(words(text), words(out), strict=True) if b != a]
        expected = T.aug_count(params.get("aug_word_p", 0.3), len(eligible), 1, 10)
        assert len(changed) == expected
        for before, after in changed:
            assert misreadings(before).fullmatch(after), (before, after)


def test_ocr_errors_never_make_an_excluded_word():
    guard = safety.WordFilter({"dog": ("exclude_words",)})
    guarded = T.Lexicon({}, ENGLISH, guard)
    made = {edit(noise.OcrErrors, "d0g", seed, OPEN, aug_char_max=1) for seed in range(60)}
    assert "dog" in made  # 0 -> o: the table can make it
    kept = {edit(noise.OcrErrors, "d0g", seed, guarded, aug_char_max=1) for seed in range(60)}
    assert "dog" not in kept and kept - {"d0g"}


# --- spelling_errors ----------------------------------------------------------------------------------


def test_spelling_errors_for_a_seed():
    assert edit(noise.SpellingErrors, LETTER, 3) == "Their government received tbe letters, BECCAUSE it wqs beginning."
    assert edit(noise.SpellingErrors, LETTER, 3, aug_p=1.0) == (
        "Thre govement recived tha letters, BECAUASE ist wors bginning."
    )


def test_spelling_errors_use_listed_misspellings_and_keep_the_case():
    table = lexicon.misspellings()
    for seed in range(30):
        out = edit(noise.SpellingErrors, LETTER, seed, aug_p=0.5)
        assert separators(out) == separators(LETTER)
        for before, after in zip(words(LETTER), words(out), strict=True):
            if before != after:
                assert after.lower() in table[before.lower()], (before, after)
                assert after == F.match_case(before, after.lower())  # Their -> Thier, BECAUSE -> BECUASE
    assert edit(noise.SpellingErrors, "Their THEIR their", 0, aug_p=1.0) == "Ther THIER theyre"


@pytest.mark.parametrize("share", [0.1, 0.3, 0.75])
def test_spelling_errors_rate_follows_aug_p(share):
    common = ["received", "government", "beginning", "because", "definitely", "their", "which", "people"]
    text = " ".join(common * 50)
    out = edit(noise.SpellingErrors, text, 1, aug_p=share, aug_max=1000)
    changed = sum(b != a for b, a in zip(words(text), words(out), strict=True))
    assert changed == math.ceil(share * 400)
    capped = edit(noise.SpellingErrors, text, 1, aug_p=share)  # aug_max: 10 at most
    assert sum(b != a for b, a in zip(words(text), words(capped), strict=True)) == 10


def test_spelling_errors_respect_the_word_filter(tmp_path):
    excluded = tmp_path / "exclude.txt"
    excluded.write_text("thier\n")
    texts = ["Their dog and their cat."] * 30
    plain = edit_texts(section("spelling_errors: {aug_p: 1.0}"), texts, 0).texts
    assert any("thier" in t.lower() for t in plain)
    guarded = edit_texts(section("spelling_errors: {aug_p: 1.0}", "  exclude_words: exclude.txt\n", tmp_path), texts, 0)
    assert not any("thier" in t.lower() for t in guarded.texts) and guarded.unsafe == 0  # withheld before drawn


def test_the_shipped_misspellings_are_derived_as_the_notice_says():
    table = lexicon.misspellings()
    assert 10000 < len(table) < 20000 and "thier" in table["their"] and "recieved" in table["received"]
    lemmas = lexicon.wordnet()
    filter_ = safety.word_filter()
    for word, wrong in list(table.items())[::50]:
        assert list(wrong) == sorted(set(wrong)) and word not in wrong
        for misspelling in wrong:
            assert re.fullmatch(r"[a-z]+(?:'[a-z]+)?", misspelling) and misspelling not in lemmas
            assert not filter_.in_text(misspelling)
    head = gzip.decompress((DATA / lexicon.MISSPELLINGS).read_bytes()).decode().splitlines()[:2]
    assert "codespell 2.4.3" in head[0] and "CC BY-SA 3.0" in head[1]
    notice = (DATA / "NOTICE").read_text()
    assert "codespell_misspellings.tsv.gz" in notice and "Attribution-ShareAlike 3.0" in notice
    assert "LDNOOBW" in notice and "WordNet 3.0 Copyright 2006" in notice  # the earlier entries are kept


# --- word_split ---------------------------------------------------------------------------------------


def test_word_split_for_a_seed():
    text = "Splitting words together makes noisy but readable text."
    assert edit(noise.WordSplit, text, 5) == "Splitting words togethe r makes n oisy but readabl e text."
    assert edit(noise.WordSplit, text, 5, aug_p=1.0, min_length=6) == (
        "S plitting words togethe r makes noisy but read able text."
    )


def test_word_split_splits_long_words_into_two_inner_pieces():
    text = "Cats sit on forty-two well-worn mats, don't they? Extraordinarily so."
    for seed in range(40):
        out = edit(noise.WordSplit, text, seed, aug_p=0.5, min_length=4)
        before, after = words(text), words(out)
        split = T.aug_count(0.5, sum(len(w) >= 4 for w in before), 1, 10)
        assert len(after) == len(before) + split
        assert out.replace(" ", "") == text.replace(" ", "")  # only spaces were added
        assert all(after[k] in text for k in range(len(after)))
        assert "' " not in out and " '" not in out and "- " not in out and " -" not in out  # never beside ' or -
    assert edit(noise.WordSplit, "on an at it", 0, aug_p=1.0) == "on an at it"  # shorter than min_length


def test_word_split_never_makes_an_excluded_word():
    guarded = T.Lexicon({}, ENGLISH, safety.WordFilter({"ass": ("exclude_words",)}))
    made = {edit(noise.WordSplit, "assistant", seed, OPEN) for seed in range(80)}
    assert "ass istant" in made
    kept = {edit(noise.WordSplit, "assistant", seed, guarded) for seed in range(80)}
    assert "ass istant" not in kept and len(kept) == 7  # the other seven points


# --- antonym ------------------------------------------------------------------------------------------


def test_antonym_for_a_seed():
    text = "The happy children were winning an easy game."
    assert edit(noise.Antonym, text, 1) == "The happy parents were winning an easy game."  # 1 of 4: aug_p 0.1
    assert edit(noise.Antonym, text, 1, aug_p=1.0) == "The unhappy parents were losing an uneasy game."


def test_antonyms_are_wordnet_antonyms_inflected_and_never_of_stop_words():
    text = "The good old days: more people were winning, and cities grew faster than before."
    opposites = lexicon.antonyms()
    for seed in range(30):
        out = edit(noise.Antonym, text, seed, aug_p=0.5)
        assert separators(out) == separators(text)
        for before, after in zip(words(text), words(out), strict=True):
            if before != after:
                assert before.lower() not in ENGLISH
                assert after.lower() in noise.antonym_candidates(before, SAFE), (before, after)
    assert opposites["good"] == ("bad", "evil") and opposites["increase"] == ("decrease",)
    assert noise.antonym_candidates("winning", SAFE) == ("losing",)  # the -ing form of lose, not lose
    assert noise.antonym_candidates("more", SAFE) == ()  # a stop word
    assert edit(noise.Antonym, "Happy HAPPY happy", 0, aug_p=1.0) == "Unhappy UNHAPPY unhappy"  # the case is kept


def test_antonym_keeps_to_the_safe_vocabulary(tmp_path):
    assert lexicon.antonyms_unfiltered()["girl"] == ("boy",)  # WordNet: girl <-> boy; one sense of boy is marked
    assert "girl" not in lexicon.antonyms() and lexicon.antonyms_withheld()["boy"] == "WordNet ethnic slur"
    assert "boy" not in noise.antonym_candidates("girl", SAFE) and "boy" in noise.antonym_candidates("girl", OPEN)
    texts = ["The girl won."] * 10
    safe = edit_texts(section("antonym: {aug_p: 1.0}"), texts, 0).texts
    assert not any("boy" in t for t in safe) and any("lost" in t for t in safe)  # won -> lost, or girl -> ...
    unfiltered = edit_texts(section("antonym: {aug_p: 1.0}", "  vocabulary: unfiltered\n"), texts, 0).texts
    assert any("boy" in t for t in unfiltered)
    (tmp_path / "x.txt").write_text("lost\n")
    own = edit_texts(section("antonym: {aug_p: 1.0}", "  exclude_words: x.txt\n", tmp_path), texts, 0)
    assert not any("lost" in t for t in own.texts)


def test_the_rebuilt_antonym_table_matches_the_shipped_one():
    pytest.importorskip("lemminflect")
    wordnet = Path("/usr/share/wordnet")
    if not (wordnet / "data.noun").is_file():
        pytest.skip("WordNet's data files (apt-get install wordnet-base)")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_thesaurus", ROOT / "scripts" / "build_thesaurus.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rebuilt = build.antonyms(build.read(wordnet))
    assert {w: tuple(a) for w, a in rebuilt.items()} == lexicon.antonyms_unfiltered()


# --- in a recipe --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        "ocr_errors: {aug_word_min: 3, aug_word_max: 2}",
        "ocr_errors: {aug_char_min: 3, aug_char_max: 2}",
        "spelling_errors: {aug_min: 5, aug_max: 2}",
        "word_split: {aug_min: 5, aug_max: 2}",
        "antonym: {aug_min: 5, aug_max: 2}",
    ],
)
def test_a_least_above_the_most_is_refused(transform):
    with pytest.raises(RecipeError, match="must not exceed"):
        section(transform)


def test_each_runs_in_a_recipe_and_replays_from_its_seed():
    texts = ["Their old clerks received 1050 happy letters.", "Modern cloud rooms were winning."]
    for transform in ("ocr_errors", "spelling_errors", "word_split", "antonym"):
        chosen = section(f"{transform}: {{p: 1.0}}")
        first = edit_texts(chosen, texts, 11)
        assert first.texts != texts and first.fired == [2]
        assert edit_texts(chosen, texts, 11).texts == first.texts


@pytest.mark.parametrize(
    "transform",
    [
        "ocr_errors: {aug_word_p: 1.0, aug_char_p: 0.5}",
        "spelling_errors: {aug_p: 1.0}",
        "word_split: {aug_p: 1.0, min_length: 3}",
        "antonym: {aug_p: 1.0}",
    ],
)
def test_no_copy_gains_an_excluded_word_and_none_has_to_be_drawn_again(transform):
    from tests.test_text_safety import SENTENCES

    chosen = section(transform)
    guard = safety.word_filter()
    for seed in range(10):
        edited = edit_texts(chosen, SENTENCES, seed)
        assert edited.unsafe == 0 and edited.texts != SENTENCES
        assert not any(guard.gained(b, a) for b, a in zip(SENTENCES, edited.texts, strict=True))
