"""YAML loading that remembers where every value came from.

Error messages must point at the line the user wrote, not at a line of some re-dump, so we
compose the YAML node graph ourselves and record the start mark of every node by its path
(a tuple of keys and indexes, the same path jsonschema reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from consult.errors import ConsultError, Finding, finding

PathKey = tuple[Any, ...]
# libyaml's parser when installed (PyYAML's wheels have it): the same nodes and marks, about ten
# times faster than the pure-Python one; every command loads the definitions at start-up
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlSource:
    """Parsed YAML plus a map from value path to (line, column), both 1-based."""

    file: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def where(self, path: PathKey) -> tuple[int, int]:
        """Position of ``path`` or of its nearest ancestor that exists."""
        path = tuple(path)
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def finding(self, code: str, path: PathKey, **params: Any) -> Finding:
        line, column = self.where(path)
        return finding(code, file=self.file, line=line, column=column, **params)


def _build(loader: Any, node: yaml.Node, path: PathKey, src: YamlSource) -> Any:
    mark = node.start_mark
    src.positions[path] = (mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                kmark = key_node.start_mark
                src.findings.append(
                    finding(
                        "schema",
                        file=src.file,
                        line=kmark.line + 1,
                        column=kmark.column + 1,
                        detail=f"key '{key}' appears twice in the same mapping",
                    )
                )
            result[key] = _build(loader, value_node, (*path, key), src)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), src) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> YamlSource:
    """Parse ``text``; a syntax error becomes a finding rather than an exception."""
    src = YamlSource(file=file, data=None)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            src.data = _build(loader, node, (), src)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        src.findings.append(finding("yaml-syntax", file=file, line=line, column=col, detail=detail))
    except yaml.YAMLError as exc:
        src.findings.append(finding("yaml-syntax", file=file, line=1, column=1, detail=str(exc)))
    finally:
        loader.dispose()
    return src


def load_yaml(path: Path) -> YamlSource:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConsultError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ConsultError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    return parse_yaml(text, str(path))
