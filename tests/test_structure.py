"""The house: no import circle anywhere, and arrows that point down only
(faces -> build -> modalities -> storage -> core). Every import counts, those inside functions
too; only imports for type checkers (`if TYPE_CHECKING:`) are left out, as they never run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "augcli"
MODALITY_PACKAGES = ("image", "audio", "text", "tabular", "video")
BUILT_ON = {"video": {"image", "audio"}}  # made from others' parts: frames through image's ops, sound through audio's
FACES = ("api", "cli", "jobs", "online", "torch", "huggingface", "docs", "report", "__main__", "")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The augcli modules `name` imports at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {resolve(alias.name) for alias in node.names if alias.name.startswith("augcli")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            if base.startswith("augcli"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in known else resolve(base))
    return {module for module in found if module and module != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def layer(module: str) -> str:
    part = module.split(".")[1] if "." in module else ""
    if part in ("core", "storage", "build"):
        return part
    if part in MODALITY_PACKAGES:
        return "modality"
    assert part in FACES, f"{module} lies in no known room: add its package to the structure test"
    return "face"


ALLOWED = {
    "core": {"core"},
    "modality": {"core", "storage"},  # and its own package (a noise folder may be a bucket's mirror)
    "storage": {"core", "storage"},
    "build": {"core", "storage", "build"},
    "face": {"core", "modality", "storage", "build", "face"},
}


def test_no_import_circle_anywhere():
    assert cycles(graph()) == []


def test_the_circle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_point_down_only():
    wrong = []
    for module, imported in sorted(graph().items()):
        for target in sorted(imported):
            here, there = layer(module), layer(target)
            if here == there == "modality":
                own, other = module.split(".")[1], target.split(".")[1]
                if own != other and other not in BUILT_ON.get(own, ()):
                    wrong.append(f"{module} imports another modality: {target}")
            elif there not in ALLOWED[here]:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert wrong == []


PACKAGES = sorted(p.parent.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE)


def test_the_rooms_are_found():
    assert {"core", "build", "storage", "image", "image/labels", "audio", "text", "tabular", "report"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_room_says_what_it_owns(package):
    """Every package under augcli/ opens with a paragraph saying what it owns and what it imports."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc and "Owns" in doc and "Imports" in doc, f"augcli/{package}/__init__.py: say what it owns and imports"
