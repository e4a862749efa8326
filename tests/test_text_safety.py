"""The safe vocabulary (issue #21): no text transform brings a slur, an obscenity or a profanity into
a sample that did not have it, unless the recipe says `vocabulary: unfiltered`.

(This file has to name such words to test that they stay out.)"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from augcli.core.recipe import RecipeError, parse_recipe
from augcli.text import lexicon, safety, translate
from augcli.text.modality import edit_texts, records_of, report_rows, vocabulary_line

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "augcli" / "text" / "data"
WORDNET = Path("/usr/share/wordnet")
# sha256 of wordnet_synonyms.json.gz as augcli shipped it before the filter (every sense of every word)
UNFILTERED_SHA256 = "ff5fefd57c743ddf397073548d3abb009c3944404ea947de3d02790b12704196"

# Neutral sentences whose words have slurs or obscenities among their WordNet synonyms (checked below).
SENTENCES = [
    "Please boil the water and make a cup of tea for the guests.",
    "We love to know how each old instrument was built.",
    "The farmers gripe that the slow tractor ruined the soil.",
    "A fake coin and a rusty tool lay in the dirt beside the rooster.",
    "Do not spoil the soup with too much grease, said the queen.",
    "The nurse tested the urine sample and told the idiot to rest.",
    "My brother fell on his bum and laughed at the screw on the floor.",
    "They know the garden needs water, love and some patience.",
]
WORD_LEVEL = [
    "synonym_replacement: {alpha: 0.5}",
    "random_insertion: {alpha: 0.5}",
    "random_swap: {alpha: 0.5}",
    "random_deletion: {p_word: 0.3}",
    "eda: {}",
    "eda: {alpha_sr: 0.5, alpha_ri: 0.5, alpha_rs: 0.3, p_rd: 0.3}",
    "random_char: {alpha: 0.5}",
    "keyboard_typo: {alpha: 0.5}",
    "some_of: [synonym_replacement, random_insertion, random_swap, random_deletion, keyboard_typo]",
]


def section(transform: str, extra: str = "", base_dir: Path | None = None):
    recipe = parse_recipe(f"text:\n{extra}  transforms:\n    - {transform}\n", "r.yaml", base_dir=base_dir)
    return recipe.sections["text"]


# --- the shipped lists --------------------------------------------------------------------------------


def test_no_shipped_synonym_is_an_excluded_word():
    words = safety.word_filter()
    table = lexicon.wordnet()
    marked = {line.split("\t")[0] for line in (DATA / safety.WORDNET_FILE).read_text().splitlines() if "\t" in line}
    assert len(marked) > 150 and {"spade", "piss", "fuck", "faggot", "bastard", "dick"} <= marked
    for word, synonyms in table.items():
        for synonym in synonyms:
            assert synonym not in marked, (word, synonym)
            assert not words.in_text(synonym), (word, synonym, words.in_text(synonym))
    assert safety.allowed(table, words)[1] == {}  # the run-time filter finds nothing left to take out


def test_unfiltered_is_the_table_augcli_shipped_before():
    table = {word: list(synonyms) for word, synonyms in lexicon.wordnet_unfiltered().items()}
    payload = json.dumps(table, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert hashlib.sha256(gzip.compress(payload, compresslevel=9, mtime=0)).hexdigest() == UNFILTERED_SHA256
    assert lexicon.thesaurus(vocabulary="unfiltered") == lexicon.wordnet_unfiltered()
    assert "piss" in lexicon.wordnet_unfiltered()["water"] and "piss" not in lexicon.wordnet()["water"]


def _usage_marked(wordnet: Path) -> dict[str, set[str]]:
    """Lemmas a usage-domain pointer marks as disparagement, ethnic slur or obscenity, read from
    WordNet's data files independently of the build script."""
    synsets, pointers = {}, []
    for name, pos in (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r")):
        for line in (wordnet / f"data.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split(" | ")[0].split(" ")
            count = int(fields[3], 16)
            words = [re.sub(r"\(.*\)$", "", w).lower().replace("_", " ") for w in fields[4 : 4 + 2 * count : 2]]
            synsets[(fields[0], pos)] = words
            at = 5 + 2 * count
            for k in range(int(fields[at - 1])):
                symbol, offset, target, where = fields[at + 4 * k : at + 4 * k + 4]
                if symbol == ";u":
                    pointers.append((words, offset, "a" if target == "s" else target, int(where[:2], 16)))
    marked = defaultdict(set)
    for words, offset, target, source in pointers:
        domain = synsets[(offset, target)][0]
        if domain in ("disparagement", "ethnic slur", "obscenity"):
            for word in words if source == 0 else [words[source - 1]]:
                marked[word].add(domain)
    return marked


@pytest.mark.skipif(not (WORDNET / "data.noun").is_file(), reason="WordNet's data files (apt-get install wordnet-base)")
def test_every_word_wordnet_marks_is_listed_and_no_synonym():
    marked = _usage_marked(WORDNET)
    assert len(marked) > 150 and "ethnic slur" in marked["spade"] and "obscenity" in marked["piss"]
    listed = {}
    for line in (DATA / safety.WORDNET_FILE).read_text().splitlines():
        if "\t" in line:
            term, reasons = line.split("\t")
            listed[term] = set(reasons.split(","))
    for word, domains in marked.items():
        assert domains <= listed.get(word, set()), word
    every = {synonym for synonyms in lexicon.wordnet().values() for synonym in synonyms}
    assert not every & set(marked)


@pytest.mark.skipif(not (WORDNET / "data.noun").is_file(), reason="WordNet's data files (apt-get install wordnet-base)")
def test_the_build_script_rebuilds_the_shipped_files(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_thesaurus
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    shipped = {name: (DATA / name).read_bytes() for name in ("wordnet_synonyms.json.gz", "wordnet_withheld.json.gz")}
    shipped[safety.WORDNET_FILE] = (DATA / safety.WORDNET_FILE).read_bytes()
    for name in ("ldnoobw_en.txt", "augcli_unsafe.txt"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    monkeypatch.setattr(build_thesaurus, "DATA", tmp_path)
    monkeypatch.setattr(sys, "argv", ["build_thesaurus.py"])
    monkeypatch.setattr(safety, "_data", lambda name: (tmp_path / name).read_text(encoding="utf-8"))
    try:
        build_thesaurus.main()
    finally:
        safety.default_terms.cache_clear()
        safety.word_filter.cache_clear()
    for name, data in shipped.items():
        assert (tmp_path / name).read_bytes() == data, name


def test_sources_and_licences_are_shipped():
    notice = (DATA / "NOTICE").read_text()
    assert "naughty-words 1.2.0" in notice and "CC BY 4.0" in notice and "WORDNET_LICENSE" in notice
    assert "Attribution 4.0 International" in (DATA / "LDNOOBW_LICENSE").read_text()
    listed = (DATA / "ldnoobw_en.txt").read_text().splitlines()
    assert len(listed) == 403 and "bitch" in listed and "son of a bitch" not in listed
    reasons = safety.default_terms()
    assert reasons["spade"] == ("WordNet ethnic slur", "WordNet disparagement", "WordNet definition")
    assert reasons["bitch"] == ("LDNOOBW list",) and reasons["retard"] == ("augcli list",)


# --- the matcher --------------------------------------------------------------------------------------


def test_inflected_forms_and_phrases_match_case_insensitively():
    words = safety.WordFilter({"piss": ("x",), "rape": ("x",), "titty": ("x",), "son of a bitch": ("x",)})
    for text in ("PISSING", "pissed", "Pisses", "raping", "raped", "titties", "the son-of-a-bitch", "Sons of a bitch"):
        assert words.in_text(text), text
    for text in ("pisser", "rapeseed", "sob", "a son of a nice person", "grape", "pi ss"):
        assert not words.in_text(text), text
    assert words.in_text("the bitch's son of a BITCH's dog") == {"son of a bitch"}
    assert safety.inflections("piss") >= {"piss", "pisses", "pissed", "pissing"}
    assert safety.inflections("bully") >= {"bullies", "bullied", "bullying"}
    assert "sober" not in safety.inflections("sob") and "peer" not in safety.inflections("pee")


def test_a_word_already_in_the_input_may_stay():
    words = safety.word_filter()
    assert words.gained("The queen held a spade.", "The spade held a queen.") == set()
    assert words.gained("Please make tea.", "Please piss tea.") == {"piss"}
    assert words.gained("We had a blow.", "We had a blow job.") == {"blow job"}


# --- every word-level transform, thousands of copies ----------------------------------------------------


def test_the_sentences_have_unsafe_neighbours():
    unfiltered, safe = lexicon.wordnet_unfiltered(), lexicon.wordnet()
    for sentence in SENTENCES:
        lost = {w: set(unfiltered.get(w, ())) - set(safe.get(w, ())) for w in safety.words_of(sentence)}
        assert any(lost.values()), sentence


@pytest.mark.parametrize("transform", WORD_LEVEL)
def test_no_copy_gains_an_excluded_word(transform):
    safe, unfiltered = section(transform), section(transform, "  vocabulary: unfiltered\n")
    words = safety.word_filter()
    gained_unfiltered = 0
    copies = 0
    for seed in range(150):
        edited = edit_texts(safe, SENTENCES, seed)
        for before, after in zip(SENTENCES, edited.texts, strict=True):
            assert not words.gained(before, after), (transform, seed, before, after)
            copies += 1
        for before, after in zip(SENTENCES, edit_texts(unfiltered, SENTENCES, seed).texts, strict=True):
            gained_unfiltered += bool(words.gained(before, after))
    assert copies == 1200
    if transform.startswith(("synonym", "random_insertion", "eda: {alpha")):
        assert gained_unfiltered > 50  # the test has teeth: without the filter these copies do gain them


def test_synonyms_are_drawn_from_the_safe_table_only():
    """The candidates are filtered before a draw, not only the copies after it: a synonym
    transform never needs a redraw on these sentences."""
    for transform in ("synonym_replacement: {alpha: 0.5}", "random_insertion: {alpha: 0.5}"):
        safe = section(transform)
        assert lexicon.thesaurus(*_args(safe)) is lexicon.wordnet()
        assert sum(edit_texts(safe, SENTENCES, seed).unsafe for seed in range(150)) == 0


def test_a_typo_that_makes_an_excluded_word_is_drawn_again():
    texts = ["Take a shot at the duck"] * 20
    safe, unfiltered = (
        section("keyboard_typo: {alpha: 1.0}"),
        section("keyboard_typo: {alpha: 1.0}", "  vocabulary: unfiltered\n"),
    )
    words = safety.word_filter()
    redrawn = gained = 0
    for seed in range(20):
        edited = edit_texts(safe, texts, seed)
        redrawn += edited.unsafe
        assert not any(words.gained(t, out) for t, out in zip(texts, edited.texts, strict=True))
        copy = edit_texts(unfiltered, texts, seed).texts
        gained += sum(bool(words.gained(t, out)) for t, out in zip(texts, copy, strict=True))
    assert redrawn > 0 and gained > 0
    assert edit_texts(safe, texts, 3).texts == edit_texts(safe, texts, 3).texts  # redraws are seeded too


# --- exclude_words and vocabulary: unfiltered ------------------------------------------------------------


def test_exclude_words_adds_phrases_and_inflected_forms(tmp_path):
    (tmp_path / "thesaurus.csv").write_text("sip,drinking,taste\nlake,body of water,pond\n")
    (tmp_path / "exclude.txt").write_text("# our own\ndrink\nBody of Water\n")
    options = "  thesaurus: thesaurus.csv\n  thesaurus_mode: replace\n"
    texts = ["We sip by the lake"] * 10
    plain = section("synonym_replacement: {alpha: 1.0}", options, tmp_path)
    excluded = section("synonym_replacement: {alpha: 1.0}", options + "  exclude_words: exclude.txt\n", tmp_path)
    seen, kept = set(), set()
    for seed in range(30):
        seen.update(edit_texts(plain, texts, seed).texts)
        kept.update(edit_texts(excluded, texts, seed).texts)
    assert any("drinking" in t for t in seen) and any("body of water" in t for t in seen)
    assert not any("drinking" in t or "body of water" in t for t in kept)
    assert {"We taste by the pond"} <= kept
    table = lexicon.thesaurus(*_args(excluded))  # an excluded word keeps its synonyms: it may be replaced
    assert table == {"sip": ("taste",), "lake": ("pond",), "pond": ("lake",), "taste": ("sip",)} | {
        "drinking": ("sip", "taste"),
        "body of water": ("lake", "pond"),
    }
    line = vocabulary_line(excluded)
    assert line.startswith("safe: 2 words withheld") and "exclude_words 2" in line


def _args(section):
    options = section.options
    return options["thesaurus"], options["thesaurus_mode"], options["vocabulary"], options["exclude_words"]


def test_a_user_thesaurus_cannot_bring_an_excluded_word_back(tmp_path):
    (tmp_path / "mine.csv").write_text("tea,piss,brew\nkettle,son of a bitch,pot\n")
    safe = section("synonym_replacement", "  thesaurus: mine.csv\n", tmp_path)
    table = lexicon.thesaurus(*_args(safe))
    assert "piss" not in table["tea"] and "brew" in table["tea"] and "son of a bitch" not in table["kettle"]
    unfiltered = section("synonym_replacement", "  thesaurus: mine.csv\n  vocabulary: unfiltered\n", tmp_path)
    assert "piss" in lexicon.thesaurus(*_args(unfiltered))["tea"]


def test_unfiltered_restores_the_old_copies_and_says_so(tmp_path):
    unfiltered = section("eda: {}", "  vocabulary: unfiltered\n")
    edited = edit_texts(unfiltered, SENTENCES, 7)
    records = records_of(unfiltered, [edited])
    assert {
        "name": "vocabulary",
        "params": {"vocabulary": "unfiltered", "tries": 3, "restored": 0},
        "samples": 0,
    } in records
    assert vocabulary_line(unfiltered).startswith("unfiltered (vocabulary: unfiltered)")
    safe = section("eda: {}")
    assert all(record["name"] != "vocabulary" for record in records_of(safe, [edit_texts(safe, SENTENCES, 7)]))
    line = vocabulary_line(safe)
    assert re.match(r"safe: 3\d\d words withheld from the synonyms \(WordNet ethnic slur \d+, ", line), line

    from tests.test_cli import invoke

    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("\n".join(SENTENCES) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\ntext:\n  vocabulary: unfiltered\n  transforms:\n    - eda\n")
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    manifest = (tmp_path / "out" / "manifest.csv").read_text()
    assert manifest.count('""vocabulary"":""unfiltered""') == 2  # each copy's record names it
    parsed = parse_recipe(recipe.read_text(), str(recipe), base_dir=tmp_path)
    rows = [{"modality": "text", "transforms": json.dumps(records)}]
    assert report_rows(parsed, rows)[0][1].startswith("unfiltered")


def test_the_preview_shows_the_withheld_words(tmp_path):
    pytest.importorskip("jinja2")
    pytest.importorskip("matplotlib")
    from tests.test_cli import invoke

    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("\n".join(SENTENCES) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\ntext:\n  transforms:\n    - keyboard_typo: {alpha: 0.5}\n")
    result = invoke("preview", recipe, data, "-o", tmp_path / "page.html", "--files", "1", "--copies", "2")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page.html").read_text()
    assert re.search(r"text vocabulary: safe: 3\d\d words withheld from the synonyms \(WordNet ethnic slur", page)


def test_recipe_errors_name_exclude_words(tmp_path):
    with pytest.raises(RecipeError, match=r"exclude_words.*cannot read exclude_words"):
        parse_recipe("text:\n  exclude_words: missing.txt\n  transforms: [eda]\n", "r.yaml", base_dir=tmp_path)
    with pytest.raises(RecipeError, match="vocabulary"):
        parse_recipe("text:\n  vocabulary: clean\n  transforms: [eda]\n", "r.yaml", base_dir=tmp_path)
    os.mkfifo(tmp_path / "fifo.txt")
    with pytest.raises(RecipeError, match="not a regular file"):
        parse_recipe("text:\n  exclude_words: fifo.txt\n  transforms: [eda]\n", "r.yaml", base_dir=tmp_path)


# --- back translation (a fake translator: the check does not care where a copy came from) ----------------


@pytest.fixture
def fake_models(tmp_path, monkeypatch):
    for name in ("opus-mt-en-de", "opus-mt-de-en"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    monkeypatch.setattr(translate, "missing_packages", lambda: [])
    calls = []

    def install(back):
        def fake(texts, folder, *settings):
            if folder.endswith("-de"):
                return list(texts)
            calls.append(list(texts))
            return [back(text, len(calls)) for text in texts]

        calls.clear()
        monkeypatch.setattr(translate, "translate", fake)
        return calls

    return tmp_path, install


def test_back_translation_that_gains_an_excluded_word_is_drawn_again_or_left(fake_models):
    root, install = fake_models
    bt = section(f"back_translation: {{via: de, model: {root}, sampling: true}}")
    texts = ["Please make tea.", "Boil the water.", "They piss and moan."]

    calls = install(lambda text, call: text.replace("make", "piss").replace("water", "piss").replace("moan", "whine"))
    edited = edit_texts(bt, texts, 1)
    assert edited.texts == ["Please make tea.", "Boil the water.", "They piss and whine."]  # piss was there already
    assert (edited.unsafe, edited.restored) == (2, 2)
    assert len(calls) == 1 + safety.SAFE_TRIES and calls[1:] == [texts[:2]] * safety.SAFE_TRIES
    record = records_of(bt, [edited])[-2]
    assert record == {"name": "vocabulary", "params": {"vocabulary": "safe", "tries": 3, "restored": 2}, "samples": 2}
    assert "2 samples gained an excluded word and were drawn again (up to 3 tries), 2 left as their original" in (
        vocabulary_line(bt, [record])
    )

    install(lambda text, call: text.replace("water", "piss" if call == 1 else "liquid"))
    edited = edit_texts(bt, texts, 1)
    assert edited.texts[1] == "Boil the liquid." and (edited.unsafe, edited.restored) == (1, 0)


def test_the_filter_reads_only_shipped_files_in_a_fresh_process():
    """The run-time filter reads only the shipped files: it works where WordNet is not installed."""
    code = "from augcli.text import safety, lexicon; assert safety.word_filter().in_text('piss'); "
    code += "print(len(lexicon.wordnet()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert int(out.stdout) > 48000
