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
import unicodedata
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
    "The gay crowd cheered when the dunce admitted his blunder.",
    "The toilet in the old brothel was lousy and cold.",
    "After the long walk the exhausted donkey needed water and rest.",
    "The rooster woke the farm while a beaver built its dam.",
    "The vet studied defecation in horses and cut the sod by the field.",
    "They tried to con the human guard with a fake badge.",
]
# Neutral sentences whose letters noise can turn into an excluded word: OCR (click: dick), a typo and
# then OCR (shot: 5h1t, duck: fvck), a split (cocktail: cock tail), an antonym (precocious: retarded).
NOISE_SENTENCES = [
    "Take a shot at the duck and click the dock.",
    "The assistant served a cocktail in Scunthorpe and read Dickens.",
    "The precocious girl gave an oral report to the king.",
    "Please count the puppy pictures and pass the scrap paper.",
]
TEXTS = SENTENCES + NOISE_SENTENCES
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
    "ocr_errors: {aug_word_p: 1.0, aug_char_p: 0.6}",
    "spelling_errors: {aug_p: 1.0}",
    "word_split: {aug_p: 1.0, min_length: 3}",
    "antonym: {aug_p: 1.0}",
    "keyboard_typo: {alpha: 1.0}\n    - ocr_errors: {aug_word_p: 1.0}",  # stacked: a typo, then OCR
]
COPIES = 1000  # per transform, from seeds over TEXTS

# The test's own judge, independent of augcli's lists: a copy's new word is vulgar if, read as written
# or with look-alike glyphs undone, it holds one of these roots or is one of these words, and the
# input had neither.
VULGAR_ROOTS = ("fuck", "shit", "cunt", "piss", "wank", "whore", "crapp", "nigg", "fagg", "bitch", "slut", "jizz")
VULGAR_WORDS = {
    "crap",
    "craps",
    "fag",
    "fags",
    "faggot",
    "homo",
    "homos",
    "retard",
    "retards",
    "retarded",
    "dick",
    "dicks",
    "dickhead",
    "cock",
    "cocks",
    "prick",
    "pricks",
    "pussy",
    "tit",
    "tits",
    "titty",
    "boob",
    "boobs",
    "ass",
    "arse",
    "anal",
    "bastard",
    "bastards",
    "bugger",
    "turd",
    "turds",
    "cum",
    "spic",
    "kike",
    "chink",
    "gook",
    "dyke",
    "dykes",
    "dike",
    "queer",
    "pansy",
    "poof",
    "abo",
    "gyp",
    "dumbass",
    "coon",
    "spade",
    "pee",
}
NOT_VULGAR = re.compile(r"scrapp\w*|sniggers?|niggard\w*|niggl\w*|swank\w*|inspiss\w*|shittim\w*|scunthorpe")
LOOKALIKE = str.maketrans("0134578@$", "oieastbas")


def vulgar(before: str, after: str) -> set[str]:
    """The new words of `after` the judge finds vulgar (see VULGAR_ROOTS)."""
    had = " ".join(re.findall(r"[\w@$]+", unicodedata.normalize("NFKC", before).casefold()))
    known = set(had.split())
    found = set()
    for word in set(re.findall(r"[\w@$]+", unicodedata.normalize("NFKC", after).casefold())) - known:
        plain = word.translate(LOOKALIKE)
        for reading in {word, plain, word.replace("1", "l").translate(LOOKALIKE), plain.replace("v", "u")}:
            if reading in VULGAR_WORDS and reading not in known:
                found.add(word)
            if not NOT_VULGAR.fullmatch(reading) and any(r in reading and r not in had for r in VULGAR_ROOTS):
                found.add(word)
    return found


def section(transform: str, extra: str = "", base_dir: Path | None = None):
    recipe = parse_recipe(f"text:\n{extra}  transforms:\n    - {transform}\n", "r.yaml", base_dir=base_dir)
    return recipe.sections["text"]


# --- the shipped lists --------------------------------------------------------------------------------


SHIPPED_LISTS = {"synonyms": lexicon.wordnet, "antonyms": lexicon.antonyms, "misspellings": lexicon.misspellings}


@pytest.mark.parametrize("name", SHIPPED_LISTS)
def test_no_shipped_entry_is_an_excluded_word(name):
    words = safety.word_filter()
    table = SHIPPED_LISTS[name]()
    marked = {line.split("\t")[0] for line in (DATA / safety.WORDNET_FILE).read_text().splitlines() if "\t" in line}
    assert len(marked) > 150 and {"spade", "piss", "fuck", "faggot", "bastard", "dick"} <= marked
    for word, entries in table.items():
        for entry in entries:
            assert entry not in marked, (word, entry)
            assert not words.in_text(entry), (word, entry, words.in_text(entry))
            assert not vulgar("", entry), (word, entry)  # nor by the test's own judge
    assert safety.allowed(table, words)[1] == {}  # the run-time filter finds nothing left to take out


def test_the_withheld_antonyms_are_shipped_apart():
    withheld = lexicon.antonyms_withheld()
    pairs = {(w, a) for w, opposites in lexicon.antonyms_unfiltered().items() for a in opposites if a in withheld}
    assert len(pairs) == 14 and {("precocious", "retarded"), ("oral", "anal"), ("king", "queen")} <= pairs
    assert not any(a in withheld for opposites in lexicon.antonyms().values() for a in opposites)
    assert "girl" not in lexicon.antonyms() and lexicon.antonyms_unfiltered()["girl"] == ("boy",)


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
    for name, table in SHIPPED_LISTS.items():
        every = {entry for entries in table().values() for entry in entries}
        assert not every & set(marked), name


@pytest.mark.skipif(not (WORDNET / "data.noun").is_file(), reason="WordNet's data files (apt-get install wordnet-base)")
def test_the_build_script_rebuilds_the_shipped_files(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_thesaurus
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    written = ("wordnet_synonyms.json.gz", "wordnet_withheld.json.gz", lexicon.ANTONYMS, lexicon.ANTONYMS_WITHHELD)
    shipped = {name: (DATA / name).read_bytes() for name in (*written, safety.WORDNET_FILE, safety.FORMS_FILE)}
    for name in ("ldnoobw_en.txt", "augcli_unsafe.txt"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    monkeypatch.setattr(build_thesaurus, "DATA", tmp_path)
    monkeypatch.setattr(sys, "argv", ["build_thesaurus.py"])
    monkeypatch.setattr(safety, "_data", lambda name: (tmp_path / name).read_text(encoding="utf-8"))
    try:
        build_thesaurus.main()
    finally:
        safety.clear_caches()
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
    assert reasons["homo"] == ("augcli list",) and reasons["🖕"] == ("LDNOOBW list",)  # an emoji entry is kept
    assert "unsafe_inflections.tsv" in notice and "lemminflect 0.2.3" in notice and "MIT" in notice
    assert "wordnet_antonyms_withheld.json.gz" in notice


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


def test_a_word_that_holds_a_vulgar_root_is_excluded_but_innocent_ones_are_not():
    words = safety.word_filter()
    compounds = (
        "fuckup fuckhead shithead diddlyshit diddly-shit crapper crappy crappier shitter pisser wanker whorehouse"
        " whoremonger bitchy sluttish MOTHERFUCKING"
    )
    for word in compounds.split():
        assert words.in_text(word), word
    for word in ("homo", "prickteaser", "coldcock", "cockup", "dumbass", "gyp", "bugger"):  # augcli's list, no root
        assert words.reason(next(iter(words.in_text(word)))) == "augcli list", word
    innocent = (
        "scrappy scrapped scrapping scrapple crappie crappies snigger niggardly niggling inspissate swanky wankel"
        " shittim shittimwood cushitic pissaba scunthorpe saltwater cockerel peacock Dickens homogeneous sobbing"
    )
    for word in innocent.split():
        assert not words.in_text(word), word
    assert safety.allowed({"blunder": ("fuckup", "goof")}, words) == ({"blunder": ("goof",)}, {"fuckup": "augcli root"})
    assert not safety.word_filter("unfiltered").in_text("fuckhead")  # the roots are part of the shipped lists
    assert words.in_text("a spelt-out f-u-c-k, or s h i t") == {"fuck", "shit"} and not words.in_text("a b c")


def test_dictionary_inflections_are_excluded_too(tmp_path):
    words = safety.word_filter()
    for form in ("shitting", "shitted", "shat", "fagged", "fagging", "gypped"):
        assert words.in_text(form), form
    for form in ("sobbing", "nipping", "slitting", "scatting", "Lesbos"):  # everyday words of their own
        assert not words.in_text(form), form
    (tmp_path / "mine.txt").write_text("rob\nsteal\n")
    mine = safety.word_filter("unfiltered", str(tmp_path / "mine.txt"))
    for form in ("robbing", "robbed", "robs", "stole", "stolen", "stealing", "steals"):
        assert mine.in_text(form), form
    assert not mine.in_text("the robber stalled")
    (tmp_path / "th.csv").write_text("mat,shitted,fagging,rug\n")
    table, withheld = lexicon.vocabulary_table(str(tmp_path / "th.csv"), "replace")
    assert table["mat"] == ("rug",) and set(withheld) == {"shitted", "fagging"}
    shipped = safety._shipped_inflections()  # what build_thesaurus.py wrote, so a run need not load lemminflect
    assert shipped["shit"] == {"shat", "shitted", "shitting"} and shipped["fag"] == {"fagged", "fagging"}
    for word in sorted(shipped)[::25]:
        assert shipped[word] == safety.dictionary_inflections(word), word


def test_a_new_word_in_look_alike_glyphs_is_a_gained_excluded_word():
    words = safety.word_filter()
    before = "Take a shot at the duck and click the dock."
    assert words.gained(before, "Take a 5h1t at the d1ck and fvck the c0ck.") == {"shit", "dick", "fuck", "cock"}
    assert words.gained(before, "Take a $h0t at the dvck and c1ick the d0ck.") == set()
    assert words.gained("fine", "fine @ss, a 5h1thead") == {"ass", "shithead"}
    assert words.gained("a sh1t day", "a 5h1t day") == set()  # the input had it, read the same way
    assert words.gained("a d0g", "a dog") == set() and words.in_text("d0g") == set()  # only new words are read
    assert words.gained("the corner", "the torn corner") == set()  # an English word is read as it is: not tom
    assert safety.readings("5h1t") == ["shit", "shlt"] and "fuck" in safety.readings("fvck")
    assert len(safety.readings("uvuvuvuvuvuv")) == safety.READINGS  # a token is read a bounded number of ways


def test_the_audits_stacked_noise_cannot_spell_an_excluded_word():
    """keyboard_typo then ocr_errors on one sentence made 5h1t, d1ck, fvck, c0ck with no redraw (issue #21)."""
    texts = ["Take a shot at the duck and click the dock."] * 30
    stacked = "keyboard_typo: {alpha: 1.0}\n    - ocr_errors: {aug_word_p: 1.0}"
    safe, unfiltered = section(stacked), section(stacked, "  vocabulary: unfiltered\n")
    redrawn = disguised = 0
    for seed in range(20):
        edited = edit_texts(safe, texts, seed)
        redrawn += edited.unsafe
        assert not any(vulgar(t, out) for t, out in zip(texts, edited.texts, strict=True))
        unfiltered_texts = edit_texts(unfiltered, texts, seed).texts
        disguised += sum(bool(vulgar(t, out)) for t, out in zip(texts, unfiltered_texts, strict=True))
    assert redrawn > 10 and disguised > 10


def test_unicode_forms_are_read_as_the_words_they_show(tmp_path):
    words = safety.word_filter()
    for text in ("ＦＵＣＫ", "Fück", "fսck", "FUСK", "ſhit", "ｓｈｉｔｔｙ", "Ｆｕｃｋｈｅａｄ"):  # FUСK: a Cyrillic С
        assert words.in_text(text), text
    assert words.gained("a cat", "a Fück cat") == {"fuck"} and words.gained("a Fück cat", "a cat Fück") == set()
    (tmp_path / "th.csv").write_text("cat,ＦＵＣＫ,fսck,Fück,f-u-c-k,kitty\n", encoding="utf-8")
    table, withheld = lexicon.vocabulary_table(str(tmp_path / "th.csv"), "replace")
    assert table["cat"] == ("kitty",) and set(withheld) == {"ＦＵＣＫ", "fսck", "Fück", "f-u-c-k"}
    assert safety.words_of("Привет, мир! Café") == ["привет", "мир", "cafe"]  # other scripts are left as they are


def test_an_entry_without_letters_is_kept_whole(tmp_path):
    words = safety.word_filter()
    assert "🖕" in words.symbols and words.gained("ok", "ok 🖕🏽") == {"🖕"} and not words.gained("🖕 ok", "ok 🖕")
    (tmp_path / "mine.txt").write_text("🙈\n#comment\n")
    assert safety.read_exclude_words(str(tmp_path / "mine.txt")) == ["🙈"]
    assert safety.word_filter("unfiltered", str(tmp_path / "mine.txt")).gained("a", "a🙈") == {"🙈"}


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
    copies = gained_unfiltered = judged_unfiltered = 0
    for seed in range(-(-COPIES // len(TEXTS))):
        for before, after in zip(TEXTS, edit_texts(safe, TEXTS, seed).texts, strict=True):
            assert not words.gained(before, after), (transform, seed, before, after)
            assert not vulgar(before, after), (transform, seed, before, after)
            copies += 1
        for before, after in zip(TEXTS, edit_texts(unfiltered, TEXTS, seed).texts, strict=True):
            gained_unfiltered += bool(words.gained(before, after))
            judged_unfiltered += bool(vulgar(before, after))
    assert copies >= COPIES
    if not transform.startswith(("random_swap", "random_deletion", "spelling_errors")):
        # the test has teeth: without the filter these copies do gain such words
        assert gained_unfiltered >= 5 and judged_unfiltered >= 5, (gained_unfiltered, judged_unfiltered)


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


def test_the_line_counts_the_antonyms_and_misspellings_a_section_uses(tmp_path):
    synonyms = set(lexicon.vocabulary_table()[1])
    both = synonyms | set(lexicon.antonyms_withheld())
    line = vocabulary_line(section("antonym"))
    assert line.startswith(f"safe: {len(both):,} words withheld from the synonyms and antonyms (") and len(both) > 342
    assert vocabulary_line(section("eda")).startswith(f"safe: {len(synonyms):,} words withheld from the synonyms (")
    (tmp_path / "mine.txt").write_text("thier\n")
    mine = section("spelling_errors", "  exclude_words: mine.txt\n", tmp_path)
    line = vocabulary_line(mine)
    assert line.startswith(f"safe: {len(synonyms) + 1:,} words withheld from the synonyms and misspellings (")
    assert "exclude_words 1)" in line and "augcli root 18" in line


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
    code = "import sys; from augcli.text import safety, lexicon; assert safety.word_filter().in_text('pissing'); "
    code += "assert 'lemminflect' not in sys.modules; print(len(lexicon.wordnet()))"  # its forms ship with the lists
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert int(out.stdout) > 48000


def _slow(words: safety.WordFilter) -> safety.WordFilter:
    """The same filter with its remembered per-word answers bypassed: every text read in full."""
    slow = safety.WordFilter(words.terms, safe=words.safe)
    slow._all_inert = lambda _words: False  # type: ignore[method-assign]
    slow._may_spell = slow._text_may_spell  # type: ignore[method-assign]
    return slow


@pytest.mark.parametrize("vocabulary", ["safe", "exclude_only"])
def test_remembered_word_answers_never_change_what_the_filter_finds(tmp_path, vocabulary):
    """A copy is checked word by word from remembered answers (speed): on texts built from excluded
    forms, phrase words (in and out of order), rooted and innocent words, single letters and
    disguised glyphs, every answer must be the full reading's."""
    import random

    if vocabulary == "safe":
        fast = safety.word_filter()
    else:
        listed = tmp_path / "exclude.txt"
        listed.write_text("blue moon\nred\nx y\nzebra crossing\n", encoding="utf-8")
        fast = safety.word_filter("all", str(listed))
    slow = _slow(fast)
    phrases = [term.split() for term in fast.terms if " " in term][:60]
    pool = sorted(fast.single)[:: max(1, len(fast.single) // 80)] + [w for p in phrases for w in p]
    pool += ["the", "a", "i", "x", "y", "s", "old", "man", "bought", "car", "scunthorpe", "cushitic", "torn"]
    pool += ["shitty", "fuckwit", "assholes", "5h1t", "fvck", "@ss", "c0ck", "sh1thead", "b1tch", "rnotherfucker"]
    pool += ["ass", "hole", "blue", "moon", "red", "zebra", "crossing", "f", "u", "c", "k", "vv", "rn", "Ass", "HOLE"]
    rand = random.Random(5)
    for _ in range(4000):
        words = [rand.choice(pool) for _ in range(rand.randint(1, 12))]
        if rand.random() < 0.3 and phrases:  # a phrase in place, or its words one apart
            phrase = rand.choice(phrases)
            at = rand.randint(0, len(words))
            words[at:at] = phrase if rand.random() < 0.7 else [phrase[0], rand.choice(pool), *phrase[1:]]
        if rand.random() < 0.1:  # a word spelt out letter by letter: f u c k
            at = rand.randint(0, len(words))
            words[at:at] = list(rand.choice(["fuck", "shit", "red", "xy", *pool[:40]]))
        text = " ".join(words)
        before = " ".join(rand.sample(words, len(words)))
        tokens = safety._tokens(text)
        assert fast.found(tokens) == slow.found(tokens), text
        assert fast._may_spell(tokens) == slow._may_spell(tokens), text
        assert fast.in_text(text, tokens) == slow.in_text(text, tokens), text
        assert fast.gained(before, text) == slow.gained(before, text), (before, text)


def test_the_filter_remembers_short_words_only():
    """Hashes, URLs and noise never repeat: a long token is read each time and never kept, so the
    filter's memory stays bounded whatever a dataset holds."""
    words = safety.WordFilter({"red": ("test",)}, safe=True)
    long_token = "q" * (safety._LONGEST_REMEMBERED + 1)
    assert words.gained("the id is x", f"the id is {long_token}") == set()
    assert words.gained("the id is x", "the id is red") == {"red"}
    assert long_token not in words._inert and long_token not in words._spells
    assert "the" in words._inert and "the" in words._spells
