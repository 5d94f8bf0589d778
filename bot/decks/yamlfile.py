"""Parse (and write) deck files with a strict safe loader: libyaml's when built, else PyYAML's.

Stricter than ``yaml.safe_load`` in three ways, each reported with the line:

* a key repeated in one mapping is an error (YAML says keys are unique; PyYAML keeps
  the last value). Keys that ``<<`` merges in may still be overridden, as YAML intends;
* an integer longer than ``MAX_NUMBER_CHARS`` is refused before Python converts it;
* a value Python cannot build (a 13th month, ``!!int abc``) is an error on its line;
* nesting is bounded: libyaml stops at 1,000 levels, the pure-Python composer (which
  recurses) at ``MAX_DEPTH``.

``parse`` returns the data and the root node; the node is what the loader already built
on its way to the data, kept so an error can name a field's line without parsing again.
``dump`` writes plain data (strings, lists, string-keyed dicts) as block YAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from bot.core.errors import ContentError

MAX_NUMBER_CHARS = 64
MAX_DEPTH = 100
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_SPECIAL_KEYS = frozenset({_MERGE, "tag:yaml.org,2002:value"})
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class DuplicateKey(ConstructorError):
    def __init__(self, key: ScalarNode, first: ScalarNode) -> None:
        super().__init__(None, None, f"duplicate key {key.value!r}", key.start_mark)
        self.key = key.value
        self.line = key.start_mark.line + 1
        self.first_line = first.start_mark.line + 1


class StrictConstructor(SafeConstructor):
    def __init__(self) -> None:
        super().__init__()
        # Own keys of mappings that ``<<`` merges into, noted before flattening adds the
        # merged ones (a merge source may be flattened before it is constructed).
        self._own_keys: dict[int, list[Node]] = {}

    def flatten_mapping(self, node: MappingNode) -> None:
        if id(node) not in self._own_keys and any(k.tag == _MERGE for k, _ in node.value):
            self._own_keys[id(node)] = [k for k, _ in node.value if k.tag != _MERGE]
        super().flatten_mapping(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode) or id(node) in self._own_keys:
            return self._merged_mapping(node, deep)
        # The common case in one pass (no ``<<``, so nothing to flatten): check each key
        # as SafeConstructor would, and that it is not a repeat.
        mapping: dict[Any, Any] = {}
        seen: dict[tuple[str, str], ScalarNode] = {}
        construct = self.construct_object
        for key_node, value_node in node.value:
            if key_node.tag in _SPECIAL_KEYS:
                return self._merged_mapping(node, deep)  # nothing built so far is lost
            if type(key_node) is ScalarNode:
                first = seen.setdefault((key_node.tag, key_node.value), key_node)
                if first is not key_node:
                    raise DuplicateKey(key_node, first)
            key = construct(key_node, deep)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            mapping[key] = construct(value_node, deep)
        return mapping

    def _merged_mapping(self, node: MappingNode, deep: bool) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            keys = self._own_keys.get(id(node))
            _check_unique(
                keys if keys is not None else [k for k, _ in node.value if k.tag != _MERGE]
            )
        return super().construct_mapping(node, deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node.tag == _STR and type(node) is ScalarNode:
            return node.value  # what construct_yaml_str returns, minus four calls per string
        if node.tag == _SEQ and type(node) is SequenceNode and node not in self.constructed_objects:
            items = node.value
            if all(item.tag == _STR and type(item) is ScalarNode for item in items):
                # A list of strings (key points, tags) built at once, not by a generator.
                data = [item.value for item in items]
                self.constructed_objects[node] = data
                return data
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # 2026-13-01, !!int abc, ...
            raise ConstructorError(None, None, str(exc), node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise ConstructorError(
                None,
                None,
                f"a number of {len(node.value):,} characters is too long "
                f"(at most {MAX_NUMBER_CHARS})",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


StrictConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", StrictConstructor.construct_yaml_int
)


def _check_unique(keys: list[Node]) -> None:
    # Same resolved tag and same text construct the same key. (Two spellings of one
    # non-string key, such as 1 and 0x1, slip through, but no deck field takes one.)
    seen: dict[tuple[str, str], ScalarNode] = {}
    for key in keys:
        if isinstance(key, ScalarNode):
            first = seen.setdefault((key.tag, key.value), key)
            if first is not key:
                raise DuplicateKey(key, first)


class FastResolver(Resolver):
    """``Resolver`` with shortcuts for the commonest scalars: text that cannot be anything
    else (quoted, or plain and starting with a character no implicit type starts with),
    and short plain words seen before (keys such as ``topic`` and ``tags``)."""

    def __init__(self) -> None:
        super().__init__()
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode or self.yaml_path_resolvers:
            return self._resolve(kind, value, implicit)
        if not implicit[0] or (value and value[0] not in self.yaml_implicit_resolvers):
            return _STR
        if len(value) > 16:
            return self._resolve(kind, value, implicit)
        tag = self._plain_tags.get(value)
        if tag is None:  # a plain scalar's tag depends on its text alone
            tag = self._plain_tags[value] = self._resolve(kind, value, implicit)
        return tag

    def _resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return tag


class PureLoader(Reader, Scanner, Parser, Composer, StrictConstructor, FastResolver):
    """PyYAML's pure-Python parser with a bound on nesting (its composer recurses)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        StrictConstructor.__init__(self)
        FastResolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


Loader: type[PureLoader] | type[Any] = PureLoader
Dumper: type[yaml.SafeDumper] | type[Any] = yaml.SafeDumper
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml
    pass
else:
    Dumper = yaml.CSafeDumper

    class FastLoader(CParser, StrictConstructor, FastResolver):
        """libyaml's parser (C, with its own nesting limit) and the strict constructor."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            StrictConstructor.__init__(self)
            FastResolver.__init__(self)

    Loader = FastLoader


def parse(path: Path, text: str) -> tuple[Any, Node | None]:
    """The data and root node of ``text`` (from ``path``), or ``ContentError``."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except DuplicateKey as exc:
        problem = (
            f"{path}:{exc.line}: {exc.key}: duplicate key (the first is on line {exc.first_line})"
        )
        raise ContentError([problem]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise ContentError([f"{path}:{line}: invalid YAML: {what}"]) from None
    except yaml.YAMLError as exc:  # a reader error; files.check_printable runs first
        raise ContentError([f"{path}:1: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    return data, node


class _FastDumper(Dumper, FastResolver):  # type: ignore[misc, valid-type]
    """The safe dumper, resolving plain text as quickly as the loader does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # calls Resolver.__init__, not FastResolver's
        self._plain_tags: dict[str, str] = {}


def _node(value: Any, folded: frozenset[str], style: str | None = None) -> Node:
    if isinstance(value, str):
        return ScalarNode(_STR, value, style=style)
    if isinstance(value, list):
        return SequenceNode(_SEQ, [_node(v, folded) for v in value], flow_style=False)
    if isinstance(value, dict):
        pairs = [
            (ScalarNode(_STR, k), _node(v, folded, ">" if k in folded else None))
            for k, v in value.items()
        ]
        return MappingNode(_MAP, pairs, flow_style=False)
    raise TypeError(f"cannot write {type(value).__name__} to a deck file")


def dump(data: Any, folded: frozenset[str] = frozenset()) -> str:
    """``data`` as block YAML; the values of keys in ``folded`` as folded prose (``>``).

    Nodes are built directly (the data is only strings, lists and dicts), so the one
    Python step per value is the resolver's check that plain text stays text.
    """
    text: str = yaml.serialize(
        _node(data, folded), Dumper=_FastDumper, allow_unicode=True, width=88
    )
    return text
