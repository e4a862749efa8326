"""lemminflect's tables parsed a word at a time: the same entries as its own loader, every word."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from lemminflect.codecs.InflectionLUCodec import InflectionLUCodec
from lemminflect.codecs.LemmaLUCodec import LemmaLUCodec
from lemminflect.core.Inflections import Inflections
from lemminflect.core.Lemmatizer import Lemmatizer

from augcli.text import lemma_tables


def test_every_word_of_both_tables_is_lemminflects_own_entry():
    inflections = InflectionLUCodec.load(Inflections().infl_lu_fn)
    lemmas = LemmaLUCodec.load(Lemmatizer().lemma_lu_fn)
    lazy_inflections = InflectionLUCodec.updateForAuxMod(
        lemma_tables.LazyTable(lemma_tables.lines_by_word(Inflections().infl_lu_fn), lemma_tables._inflection_entry)
    )
    lazy_lemmas = lemma_tables.LazyTable(
        lemma_tables.lines_by_word(Lemmatizer().lemma_lu_fn), lemma_tables._lemma_entry
    )
    for eager, lazy in ((inflections, lazy_inflections), (lemmas, lazy_lemmas)):
        assert all(lazy.get(word) == entry for word, entry in eager.items())  # one word at a time, as asked
        assert lazy.get("no-such-word") is None and lazy.get("no-such-word", {}) == {}
        assert "no-such-word" not in lazy and all(word in lazy for word in list(eager)[:1000])
        with pytest.raises(KeyError):
            lazy["no-such-word"]
        assert len(lazy) == len(eager) and dict(lazy.items()) == eager  # read whole: the eager table
    assert lazy_inflections["be"] == inflections["be"] and lazy_inflections["can"]["VBD"] == ("could",)


def test_a_run_uses_the_lazy_tables_and_lemminflect_answers_as_before():
    """In a fresh process (another test may have had lemminflect read its tables whole already)."""
    script = (
        "from augcli.text import inflect, lemma_tables\n"
        "from lemminflect import getAllInflections, getAllLemmas\n"
        "from lemminflect.core.Inflections import Inflections\n"
        "from lemminflect.core.Lemmatizer import Lemmatizer\n"
        "inflect.load_tables()\n"
        "assert isinstance(Inflections().infl_dict, lemma_tables.LazyTable)\n"
        "assert isinstance(Lemmatizer().lemma_dict, lemma_tables.LazyTable)\n"
        "print(repr((getAllLemmas('running'), getAllInflections('be', 'VERB'), getAllInflections('cities'),"
        " inflect.readings('running'), inflect.form('race', 'VERB', 'VBG'))))\n"
    )
    lazy = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    eager = subprocess.run(
        [
            sys.executable,
            "-c",
            script.replace("inflect.load_tables()", "getAllLemmas('x'); getAllInflections('x')").replace(
                "assert isinstance", "assert not isinstance"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert lazy == eager and "'VBG', 'run')" in lazy and "'racing'" in lazy


def test_threads_reading_one_new_word_all_see_its_entry():
    table = lemma_tables.LazyTable({"word": "word,noun,words"}, lambda lines: {"NNS": (lines,)})
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(table.get("word"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [{"NNS": ("word,noun,words",)}] * 8


def test_the_lazy_table_behaves_as_the_eager_one_under_every_dict_operation():
    """A user of lemminflect in the same process may touch its tables: removals stick, setdefault
    keeps the entry, and order, equality, copies and pickles are the eager table's."""
    import copy
    import pickle

    path = Inflections().infl_lu_fn

    def tables():
        lazy = lemma_tables.LazyTable(lemma_tables.lines_by_word(path), lemma_tables._inflection_entry)
        return InflectionLUCodec.updateForAuxMod(InflectionLUCodec.load(path)), InflectionLUCodec.updateForAuxMod(lazy)

    eager, lazy = tables()
    assert lazy.setdefault("run", {}) == eager.setdefault("run", {}) and lazy["run"] == eager["run"]
    assert lazy.pop("walk") == eager.pop("walk") and "walk" not in lazy and lazy.get("walk") is None
    del eager["city"], lazy["city"]
    assert "city" not in lazy and lazy == eager
    assert (lazy != eager) is False
    assert list(lazy)[:3] == list(eager)[:3] and list(lazy)[-3:] == list(eager)[-3:] and len(lazy) == len(eager)
    assert repr(lazy) == repr(eager) and lazy.copy() == eager and dict(lazy) == eager
    assert pickle.loads(pickle.dumps(lazy)) == eager and copy.deepcopy(lazy) == eager
    assert lemma_tables.LazyTable.fromkeys(["a"], 1) == {"a": 1}
    eager, lazy = tables()
    lazy.clear()
    assert len(lazy) == 0 and "run" not in lazy and lazy.get("run") is None
    eager, lazy = tables()
    assert lazy.popitem() == eager.popitem() and list(reversed(lazy))[:2] == list(reversed(eager))[:2]


def test_where_the_lazy_tables_cannot_be_installed_lemminflect_reads_its_own():
    """A lemminflect whose internals differ: nothing is installed, its own loader reads the tables
    whole, and the answers are the same."""
    script = (
        "from augcli.text import inflect, lemma_tables\n"
        "from lemminflect.core.Inflections import Inflections\n"
        "lemma_tables.install = lambda: False\n"
        "inflect.load_tables()\n"
        "assert type(Inflections().infl_dict) is dict, type(Inflections().infl_dict)\n"
        "print(repr((inflect.readings('running'), inflect.form('race', 'VERB', 'VBG'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "'VBG', 'run')" in done.stdout and "'racing'" in done.stdout
