"""Returns of an earlier definition version, read through the mapping onto the current one.

After ``consult definitions update`` a workspace holds returns of two questionnaire versions:
those ingested before (and late returns of the old forms, which ingest still reads with the
definition their workbook was generated from). Each keeps its stored answers under its own
version's ids; here, when a round is loaded, the answers of a return whose definition belongs
to another framework are read in the current ids through ``mappings/*.yaml`` of the current
definitions (docs/methodology.md, "Change since the last consultation", states the rules):

* areas and components: ``same``/``renamed`` as they are; ``merged_into``: one answer per
  return and later id, the mean of the return's ratings of the merged parts; ``split_into``
  with rule ``copy``: the rating for every part (rule ``none``: for none);
* a top-5 pick of a merged component counts for the later one (once, at its first position);
  a pick of a split component for its first part;
* text and choice answers keep their text and move to the first later area of theirs;
* the institution of a return takes its later id; if that leaves two current returns of one
  institution (an old-form return of the renamed ministry and a new one), the newer counts.

Nothing in the store is changed: the mapping is applied on every read, so a corrected mapping
takes effect at once.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from consult.definitions import Definition
from consult.definitions.mapping import Mapping, find_mapping
from consult.store import NEWNESS, AnswerRow, ReturnRow
from consult.workspace import Workspace


def _framework_of(ws: Workspace, digest: str) -> str | None:
    """The framework id of a stored definition snapshot (None when there is none)."""
    path = ws.snapshots_dir / f"{digest}.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["framework"]["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mean(values: Iterable[object]) -> object:
    numbers = []
    for v in values:
        try:
            numbers.append(int(str(v)))
        except ValueError:
            continue
    if not numbers:
        return next(iter(values), None)  # every part "not applicable": so is the whole
    mean = sum(numbers) / len(numbers)
    return str(int(mean)) if mean.is_integer() else mean


def map_return_answers(answers: list[AnswerRow], mapping: Mapping) -> list[AnswerRow]:
    """One return's answers in the later ids."""
    out: list[AnswerRow] = []
    merged: dict[tuple[str, str], list[AnswerRow]] = {}
    for a in answers:
        if a.role == "area_priority" and a.area:
            for t in mapping.targets("areas", a.area):
                merged.setdefault(("area", t), []).append(a)
            continue
        if a.role == "component_priority" and a.component:
            for t in mapping.targets("components", a.component):
                merged.setdefault(("component", t), []).append(a)
            continue
        if a.role == "ranking" and isinstance(a.value, list):
            picks: list[str] = []
            for comp in a.value:
                carried = mapping.targets("components", str(comp))
                if carried and carried[0] not in picks:
                    picks.append(carried[0])
            out.append(dataclasses.replace(a, value=picks))
            continue
        area = mapping.targets("areas", a.area)[:1] if a.area else ()
        out.append(dataclasses.replace(a, area=area[0] if area else a.area))
    for (kind, target), parts in merged.items():
        first = parts[0]
        values = [p.value for p in parts]
        if kind == "area":
            out.append(dataclasses.replace(first, area=target, value=_mean(values)))
        else:
            out.append(dataclasses.replace(first, area=target.split(".", 1)[0], component=target, value=_mean(values)))
    return out


def mappings_of(ws: Workspace, definition: Definition, returns: Iterable[ReturnRow]) -> dict[int, Mapping]:
    """The mapping to read each return of an earlier framework through (by return id)."""
    current = definition.framework.id
    mappings: dict[str, Mapping | None] = {}
    of_return: dict[int, Mapping] = {}
    frameworks: dict[str, str | None] = {}  # definition hash -> framework id: one read per snapshot
    for r in returns:
        if not r.definition_hash or r.definition_hash == definition.hash:
            continue
        if r.definition_hash not in frameworks:
            frameworks[r.definition_hash] = _framework_of(ws, r.definition_hash)
        fw_id = frameworks[r.definition_hash]
        if fw_id is None or fw_id == current:
            continue
        if fw_id not in mappings:
            mappings[fw_id] = find_mapping(definition.folder, fw_id)
        found = mappings[fw_id]
        if found is not None:
            of_return[r.id] = found
    return of_return


def mapped_institutions(ws: Workspace, definition: Definition, returns: list[ReturnRow]) -> list[ReturnRow]:
    """``returns`` with the institution of each earlier-version return under its current id
    (for coverage: a renamed ministry is the same respondent)."""
    of_return = mappings_of(ws, definition, returns)
    if not of_return:
        return returns
    return [
        dataclasses.replace(r, institution=of_return[r.id].institution(r.institution or "") or r.institution)
        if r.id in of_return
        else r
        for r in returns
    ]


def read_through_mappings(
    ws: Workspace, definition: Definition, returns: list[ReturnRow], answers: list[AnswerRow]
) -> tuple[list[ReturnRow], list[AnswerRow]]:
    """The current returns and their answers, those of earlier definition versions mapped."""
    of_return = mappings_of(ws, definition, returns)
    if not of_return:
        return returns, answers
    mapped_returns = [
        dataclasses.replace(r, institution=of_return[r.id].institution(r.institution or "") or r.institution)
        if r.id in of_return
        else r
        for r in returns
    ]
    newest: dict[tuple[str | None, str | None], ReturnRow] = {}
    for r in mapped_returns:
        key = (r.country, r.institution)
        if key not in newest or NEWNESS(r.recency) > NEWNESS(newest[key].recency):
            newest[key] = r
    keep = {r.id for r in newest.values()}
    by_return: dict[int, list[AnswerRow]] = {}
    for a in answers:
        if a.return_id in keep:
            by_return.setdefault(a.return_id, []).append(a)
    out: list[AnswerRow] = []
    for rid, rows in by_return.items():
        out += map_return_answers(rows, of_return[rid]) if rid in of_return else rows
    return [r for r in mapped_returns if r.id in keep], out
