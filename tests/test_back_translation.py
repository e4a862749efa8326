"""back_translation's real loading, batching and decoding code on tiny randomly initialised Marian
models that the test builds (their output is nonsense; the plumbing and determinism are real)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from augcli.core.modalities import MODALITIES
from augcli.core.recipe import RecipeError, parse_recipe
from augcli.core.seeding import FileRngs
from augcli.text import translate
from tests.test_cli import invoke, tree_digest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

CORPUS = ["the quick brown fox jumps over the lazy dog", "der schnelle braune fuchs springt", "hello world"] * 10
LINES = "Fast cars.\nWet roads are slick.\nHello world.\nA lazy dog sleeps.\nThe fox jumps.\n"


def build_tiny_marian(folder: Path, seed: int) -> None:
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_writer=model, vocab_size=40, character_coverage=1.0, minloglevel=2
    )
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(model.getvalue())
    pieces = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = {pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = MarianTokenizer(
        source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"), vocab=str(folder / "vocab.json")
    )
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"],
    )
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    build_tiny_marian(root / "opus-mt-en-de", seed=1)
    build_tiny_marian(root / "opus-mt-de-en", seed=2)
    return root


def section(models: Path, extra: str = "") -> str:
    settings = f"via: de, model: {models}, batch_size: 2, max_length: 12{extra}"
    return f"text:\n  transforms:\n    - back_translation: {{{settings}}}\n"


def render(path: Path, text: str, copies: int = 2):
    recipe = parse_recipe(f"copies: {copies}\n{text}")
    rngs = [FileRngs(0, path.name).copy(k) for k in range(copies)]
    return MODALITIES["text"].render(path, recipe.sections["text"], rngs)


def test_back_translation_translates_every_line_in_batches(models, tmp_path, monkeypatch):
    source = tmp_path / "a.txt"
    source.write_text(LINES)
    batches = []
    _, model = translate.load(str(models / "opus-mt-en-de"))
    original = model.generate

    def spy(**kwargs):
        batches.append(kwargs["input_ids"].shape[0])
        return original(**kwargs)

    monkeypatch.setattr(model, "generate", spy)
    copies = render(source, section(models))
    assert batches == [2, 2, 1] * 2  # 5 lines in batches of 2, for each copy (the spy sits on en->de only)
    for copy in copies:
        lines = copy.data.decode().split("\n")
        assert len(lines) == 6 and lines[-1] == ""
        assert all(line and line not in LINES.splitlines() for line in lines[:-1])  # the models did translate
        assert copy.records[:1] == [{"name": "back_translation", "params": copy.records[0]["params"], "samples": 5}]
        assert copy.records[1]["name"] == "draws" and len(copy.records) == 2  # the seed the copy drew from
    assert copies[0].data == copies[1].data  # greedy decoding: the single best translation, every time
    assert render(source, section(models))[0].data == copies[0].data


def test_sampled_back_translation_is_seeded(models, tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(LINES)
    first = render(source, section(models, ", sampling: true, temperature: 2.0"), copies=3)
    again = render(source, section(models, ", sampling: true, temperature: 2.0"), copies=3)
    assert [c.data for c in first] == [c.data for c in again]
    assert len({c.data for c in first}) > 1  # different copies, different samples


def test_recipe_checks_models_packages_and_placement(models, tmp_path, monkeypatch):
    with pytest.raises(RecipeError, match=r"no model in .*opus-mt-en-fr"):
        parse_recipe(f"text:\n  transforms:\n    - back_translation: {{via: fr, model: {models}}}\n")
    with pytest.raises(RecipeError, match="runs on whole batches: list it at the top level"):
        parse_recipe(f"text:\n  transforms:\n    - one_of: [eda, {{back_translation: {{via: de, model: {models}}}}}]\n")
    monkeypatch.setattr(translate, "missing_packages", lambda: ["transformers", "sentencepiece"])
    with pytest.raises(RecipeError, match=r"back_translation needs transformers, sentencepiece: pip install torch"):
        parse_recipe(section(models))


def test_back_translation_run_is_identical_across_worker_counts(models, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a", "b", "c"):
        (data / f"{name}.txt").write_text(LINES)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\n" + section(models, ", sampling: true") + "    - random_swap\n")
    digests = []
    for workers in (1, 2):
        result = invoke("run", recipe, data, tmp_path / f"out{workers}", "--workers", workers)
        assert result.exit_code == 0, result.output
        digests.append(tree_digest(tmp_path / f"out{workers}"))
    assert digests[0] == digests[1]
