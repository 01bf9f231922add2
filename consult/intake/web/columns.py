"""Matching an export's header to the form's fields, whatever the server's export options.

A header is matched to a field by its name, or by the field's own group path joined by *any*
separator (found from the form's group and question names, not from a list); a
select_multiple's 0/1 columns are its header, a separator and a choice code. A header that
matches nothing refuses the file, naming it, so that a misread export never stores empty
returns; the questions' labels are gathered too, so that a labels export is told as one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from consult.definitions import Definition, form_for
from consult.definitions.qtypes import CHOICES, SLOTS
from consult.forms.xlsform import (
    COUNTRY_FIELD,
    INSTITUTION_FIELD,
    ROUND_FIELD,
    VERSION_FIELD,
    field_name,
    rank_field,
)
from consult.intake.web.metadata import is_metadata


def _separator(head: str, name: str, path: list[str]) -> str | None:
    """The separator that joins ``path`` and ``name`` into ``head``, whatever the user typed
    (``/``, ``-``, ``__``, `` > ``...), or None when ``head`` is not that field's header."""
    if not path or not head.endswith(name) or not head.startswith(path[0]):
        return None
    rest = head[len(path[0]) : len(head) - len(name)]  # sep + path[1] + sep + ... + sep
    inner = sum(len(p) for p in path[1:])
    width, odd = divmod(len(rest) - inner, len(path))
    if width <= 0 or odd:
        return None
    sep = rest[:width]
    return sep if rest == "".join(sep + p for p in path[1:]) + sep else None


class Columns:
    """Which header is which field: its name, or its group path joined by the export's one
    group separator (the one most headers agree on: a user may type any); a select_multiple's
    0/1 columns are its header, a separator and a choice code."""

    def __init__(self, header: list[str], paths: dict[str, list[str]], codes: dict[str, set[str]]):
        self.header = header
        self.by_name: dict[str, int] = {}
        self.details: dict[str, dict[str, int]] = {}
        self.unmatched: list[str] = []
        grouped = {name: path for name, path in paths.items() if path}
        found: Counter[str] = Counter()
        candidates: dict[int, dict[str, str]] = {}  # header index -> separator -> field
        for index, head in enumerate(header):
            if not head or head in paths or is_metadata(head):
                continue
            seps: dict[str, str] = {}
            for name, path in grouped.items():
                sep = _separator(head, name, path)
                if sep is not None:
                    seps.setdefault(sep, name)
            candidates[index] = seps
            found.update(list(seps))
        self.separator = found.most_common(1)[0][0] if found else None
        later: list[tuple[int, str]] = []
        heads: dict[str, str] = {}  # a field's header -> its name (to find its 0/1 columns)
        for index, head in enumerate(header):
            if not head or (head not in paths and is_metadata(head)):
                continue
            matched = head if head in paths else candidates.get(index, {}).get(self.separator or "")
            if matched is None:
                later.append((index, head))
                continue
            self.by_name.setdefault(matched, index)
            heads[head] = matched
        for name in codes:  # a select_multiple exported as 0/1 columns only has no header of its own
            heads.setdefault(name, name)
            if self.separator and paths.get(name):
                heads.setdefault(self.separator.join([*paths[name], name]), name)
        for index, head in later:
            if not self.detail(index, head, heads, codes):
                self.unmatched.append(head)

    def detail(self, index: int, head: str, heads: dict[str, str], codes: dict[str, set[str]]) -> bool:
        """A 0/1 column ``<field header><sep><code>`` (Kobo: the group separator, ``/`` when none
        is set; Central's split select multiples: ``/``)."""
        for field_head, name in heads.items():
            if name not in codes or not head.startswith(field_head):
                continue
            rest = head[len(field_head) :]
            for code in codes[name]:
                sep = rest[: len(rest) - len(code)]
                if rest.endswith(code) and sep and len(sep) <= 8 and not any(ch.isalnum() for ch in sep):
                    self.details.setdefault(name, {}).setdefault(code, index)
                    return True
        return False

    def find(self, *candidates: str) -> int | None:
        """The index of the first candidate field (or header) the export has, None if none."""
        for c in candidates:
            if c in self.by_name:
                return self.by_name[c]
            if c in self.header:
                return self.header.index(c)
        return None


@dataclass
class Shape:
    """What one definition's forms hold, for matching headers: every field with its group
    path, the choice codes of every select_multiple, and every label (to tell a labels export)."""

    paths: dict[str, list[str]]
    codes: dict[str, set[str]]
    labels: set[str]


def _shape(definition: Definition) -> Shape:
    fw = definition.framework
    paths: dict[str, list[str]] = {VERSION_FIELD: [], COUNTRY_FIELD: [], ROUND_FIELD: [], INSTITUTION_FIELD: []}
    codes: dict[str, set[str]] = {}
    labels: set[str] = set()
    for lang in definition.languages:
        labels.add(definition.msg("cover_institution", lang))
    for country in fw.countries:
        for inst in fw.institutions:
            form = form_for(definition, country.code, inst.id)
            for sec in form.sections:
                group = [field_name(sec.id)]
                labels.update(v for v in sec.title.values() if len(v) >= 4)
                for item in sec.items:
                    labels.update(v for v in item.label.values() if len(v) >= 4)
                    if item.qtype.layout == SLOTS:  # one field per slot, in a group of its own
                        for k in range(1, item.size + 1):
                            paths.setdefault(rank_field(item.id, k), [*group, field_name(item.id)])
                    else:
                        paths.setdefault(field_name(item.id), group)
                    if item.qtype.layout == CHOICES:  # one field, exported as one 0/1 column per choice too
                        codes.setdefault(field_name(item.id), set()).update(c.code for c in item.choices)
    labels.discard("")
    return Shape(paths, codes, labels)


_SHAPES: dict[str, Shape] = {}


def merged_shape(definitions: list[Definition]) -> Shape:
    """The fields of every known questionnaire: an export may hold submissions of several."""
    merged = Shape({}, {}, set())
    for definition in definitions:
        shape = shape_of(definition)
        for name, path in shape.paths.items():
            merged.paths.setdefault(name, path)
        for name, codes in shape.codes.items():
            merged.codes.setdefault(name, set()).update(codes)
        merged.labels |= shape.labels
    return merged


def shape_of(definition: Definition) -> Shape:
    """The :class:`Shape` of one definition, worked out once per process."""
    if definition.hash not in _SHAPES:
        _SHAPES[definition.hash] = _shape(definition)
    return _SHAPES[definition.hash]
