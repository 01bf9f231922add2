"""The bundled example consultation, built from ``examples/scenario.yaml`` through the real
workbooks: generate the questionnaire, fill it as a respondent would, save the return.

Seeded, so the same scenario and questionnaire always give the same answers; run
``python examples/make_examples.py`` after changing the questionnaire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from consult.definitions import Definition, bundled_definition
from consult.definitions.framework import text
from consult.definitions.qtypes import CHOICES
from consult.definitions.questionnaire import Form, Item, resolve
from consult.definitions.wording import Wording
from consult.example.filler import display, fill_workbook
from consult.forms.writer import build_workbook
from consult.seal import SealKey
from consult.workspace import Workspace


@dataclass
class ExampleReturn:
    path: Path
    country: str
    institution: str
    note: str = ""


def load_scenario(path: Path) -> dict[str, Any]:
    scenario: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return scenario


# The example round's seal key. Public on purpose: the example returns ship with consult and
# `consult demo` must accept them, so the demo workspace is given this key. Never for a real round.
EXAMPLE_KEY = SealKey(hashlib.sha256(b"consult example round: a public key, never for a real round").digest())


def example_workspace(scenario: dict[str, Any], root: Path, definition: Definition) -> Workspace:
    """The example round, sealing its forms with :data:`EXAMPLE_KEY` (no key file is written)."""
    fw = definition.framework
    ws = Workspace(
        root=root,
        round=scenario["round"],
        title=scenario["title"] if isinstance(scenario["title"], dict) else {"en": scenario["title"]},
        deadline=str(scenario["deadline"]),
        contact=scenario.get("contact"),
        languages=list(fw.languages),
        countries=list(scenario["countries"]),
        institutions=[i.id for i in fw.institutions],
        configured=True,
    )
    ws.__dict__["seal_key"] = EXAMPLE_KEY  # the cached property, set: never read from or written to disk
    return ws


def workspace_config(scenario: dict[str, Any], definition: Definition) -> str:
    """The consult.yaml of the example round (what ``consult init`` would write, tuned)."""
    ws = example_workspace(scenario, Path("."), definition)
    header = "# consult workspace of the bundled example round (written by examples/make_examples.py).\n"
    config: str = yaml.safe_dump(ws.to_config(), allow_unicode=True, sort_keys=False)
    return header + config


def _clamp(value: int) -> int:
    return max(1, min(5, value))


# The random draws the example made when its sentences came from shared pools (release 0.1.0):
# the sentences are now each institution's own, but the same draws are still made, so the
# seeded ratings, rankings and assistance types (and every figure the README and the store
# migration test quote) stay exactly those of the bundled example as it was published.
# (The pool sizes of those draws are in examples/scenario.yaml, `legacy_draws`.)
LEGACY_SC_VIEWS = ["support", "support", "conditional", "neutral", "no_opinion"]


def _legacy_pick(rng: random.Random, size: int) -> None:
    """The draw a pool of ``size`` sentences took (its result no longer used)."""
    rng.choice(range(size))


class ScenarioError(ValueError):
    """The scenario leaves a required answer without text: the example would be rejected."""


def example_answers(  # noqa: C901 (one branch per question role, in the seeded draw order of the shipped examples)
    form: Form,
    scenario: dict[str, Any],
    spec: dict[str, Any],
    langs: list[str],
    rng: random.Random,
    definition: Definition,
) -> dict[str, Any]:
    """Answers of one institution: ratings follow the country profile (seeded noise); every
    sentence is the institution's own, from its ``answers`` in the scenario, so no two
    ministries say the same thing."""
    fw = form.framework
    lang = spec.get("language", "en")
    # a return's own `profile` overrides the country's for some areas (an institution out of line)
    profile = {**scenario["countries"][form.country]["profile"], **(spec.get("profile") or {})}
    own: dict[str, Any] = spec.get("answers") or {}
    inst = fw.institution_by_id[form.institution]
    yes = Wording.of(definition, "messages", langs).joined("choice_yes")
    answers: dict[str, Any] = {}
    area_rating: dict[str, int] = {}
    comp_rating: dict[str, int] = {}
    where = f"{form.country}-{form.institution}"

    def rating_text(item: Item, value: int | str) -> str:
        shown = display(item, str(value), langs)
        if lang == "ru" and rng.random() < 0.3:  # some respondents type the Russian label only
            return next(text(c.label, "ru") for c in item.choices if c.code == str(value))
        return shown

    def per_area(key: str, area: str | None) -> str | None:
        return (own.get(key) or {}).get(area or "")

    legacy = scenario.get("legacy_draws", {})
    texts_once = set(legacy.get("once_per_return", {})) | set(legacy.get("regional", []))
    detail_of = {i.area: i for i in form.items if i.role == "assistance_detail"}
    for item in form.items:
        if item.qid in own and isinstance(own[item.qid], str) and item.qid not in texts_once:
            answers[item.id] = own[item.qid]  # respondent details the return gives (department, position)
        elif item.id in scenario.get("fixed_answers", {}):  # made-up respondent details
            answers[item.id] = scenario["fixed_answers"][item.id].format(
                country=form.country,
                institution=form.institution,
                country_lc=form.country.lower(),
                institution_lc=form.institution.lower(),
                institution_name=text(inst.name, lang),
            )
        elif item.qtype.example == "date":
            year, month = (int(x) for x in str(scenario.get("completed_in", "2020-08")).split("-")[:2])
            answers[item.id] = dt.date(year, month, rng.randint(3, 28)).isoformat()
        elif item.qtype.example == "count":
            answers[item.id] = rng.randint(8, 120)
        elif item.role == "area_priority":
            assignment = inst.areas[item.area or ""]
            value = _clamp(profile[item.area] + (1 if assignment.weight >= 2 else 0) + rng.choice([-1, 0, 0, 1]))
            area_rating[item.area or ""] = value
            answers[item.id] = rating_text(item, value)
        elif item.qtype.example == "rating" and item.component:
            if rng.random() < 0.06:
                answers[item.id] = rating_text(item, "na")
                continue
            key = item.component.split(".", 1)[1]
            lead = inst.areas[item.area or ""].component_weights.get(key, 0) >= 2
            value = _clamp(area_rating.get(item.area or "", 3) + (1 if lead else 0) + rng.choice([-1, -1, 0, 0, 1]))
            comp_rating[item.component] = value
            answers[item.id] = rating_text(item, value)
        elif item.role in ("challenge", "initiative") and item.area:
            if item.role == "challenge" and item.area in legacy.get("challenge_pools", {}):
                _legacy_pick(rng, legacy["challenge_pools"][item.area])
            said = per_area(item.qid, item.area)
            if said:
                answers[item.id] = said
            elif item.required and not spec.get("incomplete"):
                raise ScenarioError(f"scenario: {where} has no '{item.qid}' text for {item.area}")
        elif item.role == "assistance":
            codes = [c.code for c in item.choices if c.code != "other"]
            chosen = rng.sample(codes, k=rng.randint(1, 3))
            if rng.random() < 0.15:
                _legacy_pick(rng, 1)
            detail = detail_of.get(item.area)
            other = per_area(detail.qid, item.area) if detail else None
            if detail and other:  # "Other" is chosen where the institution says what it needs
                chosen.append("other")
                answers[detail.id] = other
            for code in chosen:
                answers[f"{item.id}#{code}"] = yes
        elif item.role == "ranking":
            ranked = sorted(comp_rating, key=lambda c: (-comp_rating[c], rng.random()))
            for pos, comp in enumerate(ranked[: item.size], start=1):
                answers[f"{item.id}#{pos}"] = display(item, comp, langs)
        elif item.qid in texts_once:
            if item.qid in legacy.get("once_per_return", {}):
                _legacy_pick(rng, legacy["once_per_return"][item.qid])
            if own.get(item.qid):
                answers[item.id] = own[item.qid]
        elif item.role == "crosscutting":
            for choice in rng.sample(item.choices, k=rng.randint(1, len(item.choices))):
                answers[f"{item.id}#{choice.code}"] = yes
        elif item.role == "regional_view":
            if rng.choice(LEGACY_SC_VIEWS) == "conditional":
                _legacy_pick(rng, 1)
            if spec.get("sc_view"):
                answers[item.id] = display(item, spec["sc_view"], langs)
        elif item.role == "cooperation_areas":
            for choice in rng.sample(item.choices, k=min(len(item.choices), rng.randint(1, 3))):
                answers[f"{item.id}#{choice.code}"] = yes
    if spec.get("incomplete"):
        left_blank = set(scenario.get("incomplete_leaves_blank", []))
        for key in [k for k in answers if k.split("#")[0] in left_blank]:
            del answers[key]
    else:
        _check_required(form, answers, langs, where)
    return answers


def _check_required(form: Form, answers: dict[str, Any], langs: list[str], where: str) -> None:
    """Every required text answered, and every conditional one whose condition holds."""
    for item in form.items:
        if item.type != "text" or item.id in answers or not item.required:
            continue
        when = item.when
        target = form.item_by_id.get(when.question) if when and when.question else None
        if when and target is not None:
            if target.qtype.layout == CHOICES:
                value: Any = [k.split("#", 1)[1] for k in answers if k.startswith(target.id + "#")]
            else:
                shown = {display(target, c.code, langs): c.code for c in target.choices}
                value = shown.get(str(answers.get(target.id)))
            if not when.holds(value):
                continue
        raise ScenarioError(f"scenario: {where} leaves the required question {item.id} blank")


def build_examples(scenario_path: Path, out_dir: Path, definition: Definition | None = None) -> list[ExampleReturn]:
    """Write ``out_dir/consult.yaml`` and ``out_dir/returns/CC/CC-INST[-vN].xlsx``."""
    definition = definition or bundled_definition()
    scenario = load_scenario(scenario_path)
    rng = random.Random(scenario.get("seed", 0))
    ws = example_workspace(scenario, out_dir, definition)
    langs = ws.languages
    config = workspace_config(scenario, definition)
    if definition.folder is not None and definition.folder.resolve().is_relative_to(out_dir.resolve()):
        # a round on its own definitions (the 2016 example): consult.yaml names the folder
        config += f"definitions: {definition.folder.resolve().relative_to(out_dir.resolve())}\n"
    (out_dir / "consult.yaml").write_text(config, encoding="utf-8")
    now = dt.datetime.fromisoformat(scenario["generated_at"])
    results = []
    blank_dir = out_dir / ".blank"
    for country, cspec in scenario["countries"].items():
        for spec in cspec["returns"]:
            inst = spec["institution"]
            form = resolve(definition.questionnaire, definition.framework, country, inst)
            blank = blank_dir / f"{country}-{inst}.xlsx"
            if not blank.exists():
                blank.parent.mkdir(parents=True, exist_ok=True)
                build_workbook(form, definition, ws, langs, now.isoformat()).save(blank)
            answers = example_answers(form, scenario, spec, langs, rng, definition)
            suffix = f"-v{spec['version']}" if spec.get("version") else ""
            target = out_dir / "returns" / country / f"{country}-{inst}{suffix}.xlsx"
            fill_workbook(blank, answers, target)
            results.append(ExampleReturn(target, country, inst, spec.get("note", "")))
    for leftover in blank_dir.glob("*.xlsx"):
        leftover.unlink()
    blank_dir.rmdir()
    return results
