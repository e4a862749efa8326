"""The text modality: EDA operations by their definitions, tokens, lexicons, files and bad input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from augcli.core.errors import InputError
from augcli.core.modalities import MODALITIES
from augcli.core.recipe import RecipeError, parse_recipe
from augcli.core.seeding import FileRngs
from augcli.text import functional as F
from augcli.text import lexicon
from augcli.text import transforms as T
from augcli.text.stopwords import ENGLISH

ROOT = Path(__file__).resolve().parent.parent
LEXICON = T.Lexicon(lexicon.wordnet(), ENGLISH)
SENTENCE = "The quick brown fox jumps over the lazy dog near the old river bank today"


def edit(name: str, text: str, seed: int = 0, **params) -> str:
    transform = getattr(T, name)(**params)
    tokens = F.tokenize(text)
    return "".join(transform.edit(tokens, F.word_positions(tokens), random.Random(seed), LEXICON))


def words(text: str) -> list[str]:
    tokens = F.tokenize(text)
    return [tokens[i] for i in F.word_positions(tokens)]


def test_tokens_cover_the_text_and_keep_punctuation_apart():
    text = "Hello, world! It's a well-known fact: 3.5 apples…  \u00e9t\u00e9"
    tokens = F.tokenize(text)
    assert "".join(tokens) == text
    assert words(text) == ["Hello", "world", "It's", "a", "well-known", "fact", "3", "5", "apples", "été"]


def test_match_case():
    assert [F.match_case(m, "swift") for m in ("Quick", "QUICK", "quick", "Q")] == ["Swift", "SWIFT", "swift", "Swift"]


@pytest.mark.parametrize("alpha", [0.1, 0.2, 0.4])
def test_synonym_replacement_changes_n_distinct_words_with_synonyms_only(alpha):
    n = max(1, round(alpha * 15))
    for seed in range(20):
        out = edit("SynonymReplacement", SENTENCE, seed, alpha=alpha)
        before, after = words(SENTENCE), words(out)
        assert len(before) == len(after)
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        assert len({b.lower() for b, _ in changed}) == n
        for old, new in changed:
            assert old.lower() not in ENGLISH
            assert new.lower() in LEXICON.lookup(old.lower())  # the lemma's synonyms, re-inflected


def test_replaced_words_keep_their_case_and_every_occurrence_changes():
    text = "Quick thinking. quick feet. QUICK hands."
    words_lex = T.Lexicon({"quick": ("fast",)}, frozenset())
    tokens = F.tokenize(text)
    out = T.synonym_replacement(tokens, F.word_positions(tokens), random.Random(0), words_lex, 0.01)
    assert "".join(out) == "Fast thinking. fast feet. FAST hands."


def test_stop_words_are_never_replaced():
    lex = T.Lexicon({"the": ("thee",), "dog": ("hound",)}, ENGLISH)
    for seed in range(10):
        tokens = F.tokenize("the dog and the cat")
        out = T.synonym_replacement(tokens, F.word_positions(tokens), random.Random(seed), lex, 1.0)
        assert "".join(out) == "the hound and the cat"


def test_random_insertion_inserts_n_synonyms_of_words_in_the_sentence():
    for seed in range(20):
        out = edit("RandomInsertion", SENTENCE, seed, alpha=0.2)
        before, after = words(SENTENCE), words(out)
        assert len(after) == len(before) + 3
        inserted = list(after)
        for word in before:
            inserted.remove(word)
        allowed = {s for w in before for s in LEXICON.lookup(w.lower()) if w.lower() not in ENGLISH}
        assert set(inserted) <= allowed


def test_random_swap_permutes_words_and_leaves_punctuation():
    text = "One, two; three: four. five"
    for seed in range(10):
        out = edit("RandomSwap", text, seed, alpha=0.4)
        assert sorted(words(out)) == sorted(words(text))
        assert [t for t in F.tokenize(out) if not t[0].isalnum()] == [", ", "; ", ": ", ". "]


def test_random_deletion_rate_and_never_empty():
    long = " ".join(f"w{i}" for i in range(10000))
    kept = len(words(edit("RandomDeletion", long, 1, p_word=0.3)))
    assert kept == pytest.approx(7000, abs=150)
    for seed in range(20):
        assert len(words(edit("RandomDeletion", "alpha beta gamma", seed, p_word=1.0))) == 1
    assert edit("RandomDeletion", "The cat, sat.", 3, p_word=0.0) == "The cat, sat."
    assert F.delete(F.tokenize("The cat, sat."), [0, 2, 4], {1}) == ["The", ", ", "sat", "."]


def test_eda_runs_one_operation_per_sample():
    seen = set()
    for seed in range(60):
        out = edit("Eda", SENTENCE, seed)
        before, after = words(SENTENCE), words(out)
        if len(after) > len(before):
            seen.add("insertion")
        elif len(after) < len(before):
            seen.add("deletion")
        elif sorted(after) == sorted(before) and after != before:
            seen.add("swap")
        elif after != before:
            seen.add("replacement")
    assert seen == {"insertion", "deletion", "swap", "replacement"}


def test_typos_touch_n_words_by_one_character_or_a_neighbouring_key():
    text = "Keyboards produce many typing mistakes every single day"
    for seed in range(20):
        out = edit("KeyboardTypo", text, seed, alpha=0.25)
        changed = [(b, a) for b, a in zip(words(text), words(out), strict=True) if b != a]
        assert len(changed) == 2
        for old, new in changed:
            (k,) = [i for i, (x, y) in enumerate(zip(old, new, strict=True)) if x != y]
            assert new[k].lower() in T.QWERTY[old[k].lower()] and new[k].isupper() == old[k].isupper()
    for seed in range(20):
        out = edit("RandomChar", text, seed, alpha=0.25)
        changed = [(b, a) for b, a in zip(words(text), words(out), strict=True) if b != a]
        assert 1 <= len(changed) <= 2 and all(abs(len(a) - len(b)) <= 1 for b, a in changed)


def test_qwerty_neighbours():
    assert T.QWERTY["g"] == "bfhtvy" and T.QWERTY["q"] == "aw" and T.QWERTY["m"] == "jkn"


def test_very_long_lines_keep_the_definitions():
    """120,000 words: thousands of edits per line go through the one-pass kernels (a quadratic
    kernel would not finish), and each operation still does exactly what it says."""
    text = " ".join(["quick brown fox"] * 40000)
    before = words(text)
    inserted = words(edit("RandomInsertion", text, 0, alpha=0.1))
    assert len(inserted) == 120000 + 12000
    swapped = words(edit("RandomSwap", text, 0, alpha=0.1))
    assert sorted(swapped) == sorted(before) and swapped != before
    deleted = len(words(edit("RandomDeletion", text, 0, p_word=0.1)))
    assert deleted == pytest.approx(108000, abs=600)
    replaced = words(edit("SynonymReplacement", text, 0, alpha=0.1))
    changed = {b for b, a in zip(before, replaced, strict=True) if a != b}
    assert changed == {"quick", "brown", "fox"}  # n exceeds the distinct words: all three are replaced


def test_the_same_seed_gives_the_same_text_under_any_hash_seed():
    code = (
        "import random; from augcli.text import transforms as T, functional as F, lexicon;"
        "from augcli.text.stopwords import ENGLISH;"
        f"lex = T.Lexicon(lexicon.wordnet(), ENGLISH); t = F.tokenize({SENTENCE!r});"
        "print(''.join(T.Eda(alpha_sr=0.5).edit(t, F.word_positions(t), random.Random(5), lex)))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_shipped_thesaurus_is_sorted_single_words():
    table = lexicon.wordnet()
    assert len(table) > 40000 and table["quick"][:3] == ("agile", "fast", "flying")
    for word, synonyms in list(table.items())[::500]:
        assert list(synonyms) == sorted(set(synonyms)) and word not in synonyms
        assert all(" " not in s and "_" not in s for s in synonyms)


def test_user_thesaurus_adds_or_replaces(tmp_path):
    (tmp_path / "domain.csv").write_text("tumour,neoplasm,growth\n")
    (tmp_path / "domain.yaml").write_text("car: [auto, motorcar]\n")
    added = lexicon.thesaurus(str(tmp_path / "domain.csv"), "add")
    assert {"growth", "neoplasm"} <= set(added["tumour"]) and {"growth", "tumour"} <= set(added["neoplasm"])
    assert "quick" in added
    replaced = lexicon.thesaurus(str(tmp_path / "domain.yaml"), "replace")
    assert replaced == {"car": ("auto", "motorcar"), "auto": ("car", "motorcar"), "motorcar": ("auto", "car")}


def render_copies(path: Path, section: str, copies: int = 2):
    recipe = parse_recipe(f"copies: {copies}\n{section}", base_dir=path.parent)
    modality = MODALITIES["text"]
    if modality.layout(path.name, recipe.sections["text"]) == "table":
        return modality.render_table(path, recipe.sections["text"], copies, FileRngs(0, path.name))
    rngs = [FileRngs(0, path.name).copy(k) for k in range(copies)]
    return modality.render(path, recipe.sections["text"], rngs)


def test_txt_copies_keep_line_count_endings_and_empty_lines(tmp_path):
    source = tmp_path / "a.txt"
    source.write_bytes(b"\xef\xbb\xbfFirst quick line here.\r\n\r\nSecond happy line.\r\nlast line no break")
    for copy in render_copies(source, "text:\n  transforms: [eda]\n", 3):
        assert copy.data.startswith(b"\xef\xbb\xbf")
        lines = copy.data[3:].decode().split("\r\n")
        assert len(lines) == 4 and lines[1] == "" and not copy.data.endswith(b"\n")
    whole = render_copies(source, "text:\n  unit: file\n  transforms: [random_swap]\n", 1)[0]
    assert whole.data.count(b"\r\n") == 3


def test_csv_rows_follow_their_original_and_other_columns_stay(tmp_path):
    source = tmp_path / "t.csv"
    content = 'id,text,label\r\n7,"Commas, ""quotes"" and\nnewlines stay",pos\r\n8,Ünïcode wörds ✓,neg\r\n'
    source.write_text(content, newline="")
    table = render_copies(source, "text:\n  include: ['*.csv']\n  transforms: [random_swap]\n", 2)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(table.data.decode(), newline="")))
    assert rows[0] == ["id", "text", "label"] and len(rows) == 1 + 2 * 3
    assert [r[0] for r in rows[1:]] == ["7"] * 3 + ["8"] * 3 and [r[2] for r in rows[1:]] == ["pos"] * 3 + ["neg"] * 3
    assert rows[1][1] == 'Commas, "quotes" and\nnewlines stay'
    assert b"\r\n" in table.data and table.rows == {"original": 2, "augmented": 4, "synthetic": 0}


def test_jsonl_keeps_originals_verbatim_and_other_keys(tmp_path):
    source = tmp_path / "t.jsonl"
    first = '{"text": "Fast cars on wet roads", "label": 1, "meta": {"a": [1]}}'
    source.write_text(first + '\n{"label": 0, "text": "Ünï ✓ here"}\n')
    table = render_copies(source, "text:\n  transforms: [random_swap]\n", 2)
    lines = table.data.decode().splitlines()
    assert lines[0] == first
    records = [json.loads(line) for line in lines]
    assert [r["label"] for r in records] == [1, 1, 1, 0, 0, 0] and records[1]["meta"] == {"a": [1]}
    assert sorted(records[4]["text"].split()) == ["here", "Ünï", "✓"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"", "empty file"),
        ("a.txt", b"caf\xe9 latte\n", "not utf-8 text (line 1, byte 3): set 'encoding:'"),
        ("t.csv", b"id,body\n1,hello\n", "text column 'text' not in this table (its columns: id, body)"),
        ("t.csv", b"id,text\n1,hello\n2,hi,extra\n", "ragged table: line 3 has 3 fields"),
        ("t.jsonl", b'{"text": "ok"}\n{"text": oops}\n', "line 2 is not JSON"),
        ("t.jsonl", b'{"text": "ok"}\n[1, 2]\n', "line 2 is a JSON list, not an object"),
    ],
)
def test_bad_text_files_fail_with_a_reason(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        render_copies(path, "text:\n  include: ['*.txt', '*.csv', '*.jsonl']\n  transforms: [eda]\n")


def test_an_encoding_option_reads_other_encodings(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("café au lait\n".encode("latin-1"))
    (copy,) = render_copies(path, "text:\n  encoding: latin-1\n  transforms: [random_swap]\n", 1)
    assert sorted(copy.data.decode("latin-1").split()) == ["au", "café", "lait"]


def test_recipe_checks_lexicon_files_and_encoding(tmp_path):
    (tmp_path / "bad.csv").write_text("lonely\n")
    for section, message in [
        ("text:\n  thesaurus: missing.csv\n  transforms: [eda]\n", "cannot read thesaurus"),
        ("text:\n  thesaurus: bad.csv\n  transforms: [eda]\n", "'lonely' has no synonyms"),
        ("text:\n  stopwords: nope.txt\n  transforms: [eda]\n", "cannot read stop words"),
        ("text:\n  encoding: klingon\n  transforms: [eda]\n", "unknown encoding 'klingon'"),
    ]:
        with pytest.raises(RecipeError, match=message):
            parse_recipe(section, "r.yaml", base_dir=tmp_path)


def test_shipped_license_notice_is_in_the_package():
    text = (ROOT / "augcli" / "text" / "data" / "WORDNET_LICENSE").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in text


def test_insert_places_words_before_a_word_or_after_the_last_one():
    tokens = F.tokenize("Fast cars, wet roads.")
    words_at = F.word_positions(tokens)
    assert "".join(F.insert(tokens, words_at, [(0, "very"), (2, "slick")])) == "very Fast cars, slick wet roads."
    assert "".join(F.insert(tokens, words_at, [(4, "today")])) == "Fast cars, wet roads today."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Z_-'’.,!?3é\n\t✓")), max_size=40))
def test_tokens_always_rejoin_and_words_alternate_with_separators(text):
    tokens = F.tokenize(text)
    assert "".join(tokens) == text
    expected = [i for i, token in enumerate(tokens) if token[0].isalnum() or token[0] == "_"]
    assert list(F.word_positions(tokens)) == expected
    every_other = set(range(0, len(expected), 2))
    remaining = words("".join(F.delete(tokens, expected, every_other)))
    assert remaining == [tokens[i] for k, i in enumerate(expected) if k not in every_other]


def reference_insert(tokens: list[str], words: list[int], insertions: list[tuple[int, str]]) -> list[str]:
    """Insert one word at a time into a list of words and separators, the slow obvious way."""
    slots: list[list[str]] = [[] for _ in range(len(words) + 1)]
    for slot, word in insertions:
        slots[slot].append(word)
    out: list[str] = []
    for i, token in enumerate(tokens):
        if i in words:
            for word in slots[words.index(i)]:
                out += [word, " "]
        out.append(token)
        if words and i == words[-1]:
            for word in slots[len(words)]:
                out += [" ", word]
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab .,!")), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["x", "y", "z"])), max_size=20),
)
def test_insert_splices_and_merges_alike(text, insertions):
    tokens = F.tokenize(text)
    positions = list(F.word_positions(tokens))
    assume(positions)  # insertions go next to words; random_insertion never calls it without any
    insertions = [(slot % (len(positions) + 1), word) for slot, word in insertions]
    assert F.insert(tokens, positions, insertions) == reference_insert(tokens, positions, insertions)


def test_jsonl_lines_end_only_at_line_breaks_not_at_unicode_separators(tmp_path):
    source = tmp_path / "t.jsonl"
    source.write_text('{"text": "first part\u2028second part here", "label": 1}\n', encoding="utf-8")
    table = render_copies(source, "text:\n  transforms: [random_swap]\n", 1)
    lines = table.data.decode().split("\n")
    assert len(lines) == 3 and lines[-1] == ""  # the original and its copy, U+2028 kept inside
    assert json.loads(lines[1])["label"] == 1 and "\u2028" in json.loads(lines[1])["text"]


def test_a_samples_tokens_are_kept_between_copies_and_handed_out_fresh(monkeypatch):
    """Every copy of a table starts from the same samples, so their tokens are kept: each call
    must still get a list of its own (an edit may build on it), equal to a fresh tokenization."""
    text = "The old man bought a red car, then sold it."
    monkeypatch.setattr(T, "_SOURCE_TOKENS", {})
    monkeypatch.setattr(T, "_SOURCE_CHARACTERS", [0])
    monkeypatch.setattr(T, "_SOURCE_TOKENS_KEPT", len(text) + len("another sample"))  # characters
    first = T._source_tokens(text)
    first.append("changed")
    again = T._source_tokens(text)
    assert again == F.tokenize(text) and again is not first
    assert T._SOURCE_TOKENS[text] == tuple(F.tokenize(text))
    T._source_tokens("another sample")
    T._source_tokens("a third sample")  # past the limit: the table starts again
    assert list(T._SOURCE_TOKENS) == ["a third sample"]
    assert T._SOURCE_CHARACTERS[0] == len("a third sample")
    long = "word " * (T._SOURCE_TOKENS_LONGEST // 5 + 1)
    assert T._source_tokens(long) == F.tokenize(long) and long not in T._SOURCE_TOKENS
    recipe = "seed: 3\ntext:\n  transforms:\n    - eda: {alpha_sr: 0.3, alpha_ri: 0.3, alpha_rs: 0.3, p_rd: 0.3}\n"
    section = parse_recipe(recipe).sections["text"]
    from augcli.text.modality import edit_texts

    samples = [text, "Every student found the small company.", text]
    kept = [edit_texts(section, samples, seed).texts for seed in range(6)]
    monkeypatch.setattr(T, "_source_tokens", F.tokenize)  # no keeping: the copies must not change
    assert kept == [edit_texts(section, samples, seed).texts for seed in range(6)]
