"""YAML loading that remembers the line of every key, so errors can point at it."""

from __future__ import annotations

from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


class YamlSourceError(ValueError):
    """Malformed YAML or a duplicate key, with the 1-based line it was found on."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def format_path(path: KeyPath) -> str:
    """('image', 'transforms', 2, 'rotate') -> 'image.transforms[2].rotate'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class LineMap:
    """Key path -> 1-based line; a path that has no entry takes its nearest ancestor's line."""

    def __init__(self) -> None:
        self._lines: dict[KeyPath, int] = {}

    def add(self, path: KeyPath, line: int) -> None:
        self._lines.setdefault(path, line)

    def line(self, path: KeyPath) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get(())


MAX_NODES = 20_000  # a recipe is a few hundred; aliases that expand past this are a "billion laughs"
MAX_DEPTH = 50


def _walk(root: yaml.Node, lines: LineMap, limit: int = MAX_NODES, what: str = "the recipe") -> None:
    """Record every key's line, iteratively, counting nodes as aliases expand them."""
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        visited += 1
        if visited > limit:
            raise YamlSourceError(f"{what} expands to more than {limit:,} values (nested aliases?): refused", None)
        if len(path) > MAX_DEPTH:
            raise YamlSourceError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        lines.add(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            children = []
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
                if key in seen:
                    raise YamlSourceError(
                        f"duplicate key '{key}' in {format_path(path) or 'the recipe'}", key_node.start_mark.line + 1
                    )
                seen.add(key)
                lines.add(path + (key,), key_node.start_mark.line + 1)
                children.append((value_node, path + (key,)))
            stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path + (index,)) for index, item in reversed(list(enumerate(node.value))))


_OPENERS = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockMappingStartToken)
_OPENERS += (yaml.BlockSequenceStartToken,)
_CLOSERS = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the tokens, before PyYAML's recursive composer overflows the stack."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENERS):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSourceError(f"nested more than {MAX_DEPTH} levels deep", token.start_mark.line + 1)
        elif isinstance(token, _CLOSERS):
            depth -= 1


def load_bounded(text: str, what: str) -> Any:
    """Any YAML file augcli reads (a thesaurus, a data.yaml), parsed as safely as a recipe: nesting
    bounded, and aliases may not expand it past the number of characters it has (a file of N
    characters holds fewer than N values without them), so a 1 KB "billion laughs" is refused."""
    return load_with_lines(text, max(MAX_NODES, len(text)), what)[0]


def load_with_lines(text: str, limit: int = MAX_NODES, what: str = "the recipe") -> tuple[Any, LineMap]:
    """Parse YAML text safely; return the data and where each key path was written. Nesting and
    alias expansion are bounded, so a hostile recipe is refused in well under a second."""
    loader = yaml.SafeLoader(text)
    try:
        _check_depth(text)
        node = loader.get_single_node()
        lines = LineMap()
        if node is None:
            return None, lines
        _walk(node, lines, limit, what)
        return loader.construct_document(node), lines
    except RecursionError:
        raise YamlSourceError(f"nested more than {MAX_DEPTH} levels deep", None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlSourceError(f"malformed YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"malformed YAML: {exc}", None) from None
    finally:
        loader.dispose()
