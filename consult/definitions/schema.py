"""Validation of the YAML definitions: JSON Schema first, then what a schema cannot say.

The JSON Schemas live in ``questionnaires/schema/`` so that editors (VS Code's YAML
extension, PyCharm) can use them too; jsonschema applies them here rather than a hand-written
walker, because it reports every violation with its path and we map paths to YAML lines.
The cross-reference checks (duplicate ids, unknown references, ``when`` targets, missing
translations, empty rank lists) are below. Every check appends to one list: users see all
problems at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult.definitions.qtypes import SLOTS
from consult.definitions.roles import ROLES
from consult.definitions.yamlsource import YamlSource, load_yaml
from consult.errors import Finding
from consult.problems import Phrase, phrase
from consult.resources import data_dir

if TYPE_CHECKING:
    import jsonschema

    from consult.definitions.framework import Framework
    from consult.definitions.questionnaire import Questionnaire

KINDS = ("framework", "questionnaire", "taxonomy", "messages", "consult", "mapping", "problems")
TEXT_KEYS = {"name", "title", "label", "hint", "short"}


@cache
def json_schema(kind: str) -> dict[str, Any]:
    path = data_dir("questionnaires") / "schema" / f"{kind}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def detect_kind(src: YamlSource) -> str | None:
    stem = Path(src.file).stem
    if stem in KINDS:
        return stem
    data = src.data
    if not isinstance(data, dict):
        return None
    if "mapping" in data:
        return "mapping"
    if "problems" in data:
        return "problems"
    if "sections" in data:
        return "questionnaire"
    if "institutions" in data:
        return "framework"
    if "messages" in data:
        return "messages"
    if "areas" in data:
        return "taxonomy"
    return None


def _schema_message(err: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in (err.instance or {})]
        return f"{path}: missing required key '{missing[0] if missing else '?'}'"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        return f"{path}: unknown key '{', '.join(map(str, extra))}' (allowed: {', '.join(allowed)})"
    if err.validator == "enum":
        return f"{path}: {err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "type":
        return f"{path}: expected {err.validator_value}, found {type(err.instance).__name__}"
    if err.validator == "pattern":
        return f"{path}: {err.instance!r} does not match the pattern {err.validator_value}"
    if err.validator == "propertyNames":
        return f"{path}: key {err.instance!r} is not allowed here ({err.message})"
    return f"{path}: {err.message}"


def _passed_dir() -> Path:
    base = (
        os.environ.get("CONSULT_CACHE_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "consult"
    )
    return Path(base) / "schema-passed"


def _passed_key(data: Any, kind: str) -> str:
    from consult import __version__

    schema = (data_dir("questionnaires") / "schema" / f"{kind}.schema.json").read_bytes()
    content = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(b"\0".join([__version__.encode(), kind.encode(), schema, content])).hexdigest()


def check_schema(src: YamlSource, kind: str) -> list[Finding]:
    """Schema violations of ``src``. Every command checks the definitions and consult.yaml at
    start-up; content that passed once (same bytes, schema and consult version) is remembered
    by an empty marker file in the user's cache, so the next start skips importing and running
    jsonschema. Only a pass is remembered: a file with problems is checked every time."""
    try:
        marker: Path | None = _passed_dir() / _passed_key(src.data, kind)
        if marker is not None and marker.exists():
            return []
    except (OSError, RuntimeError, TypeError, ValueError):  # no home, unreadable cache, odd data: check
        marker = None
    findings = _check_schema(src, kind)
    if not findings and marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only home: checked every time, as before
    return findings


def _check_schema(src: YamlSource, kind: str) -> list[Finding]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema(kind))
    findings = []
    errors = sorted(validator.iter_errors(src.data), key=lambda e: src.where(e.absolute_path))
    for err in errors:
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            if extra:
                path = (*path, extra[0])
        findings.append(src.finding("schema", path, detail=_schema_message(err)))
    return findings


def _dupes(src: YamlSource, items: Iterable[tuple[tuple[Any, ...], str]], kind: list[Phrase]) -> list[Finding]:
    seen: dict[str, tuple[Any, ...]] = {}
    out = []
    for path, ident in items:
        if ident in seen:
            out.append(src.finding("duplicate-id", path, kind=kind, id=ident, first_line=src.where(seen[ident])[0]))
        else:
            seen[ident] = path
    return out


def _translations(src: YamlSource, langs: list[str], required: list[str] | None = None) -> list[Finding]:
    """Every multilingual label must exist in every required language of the framework; a
    label missing in another language is a warning (English is shown instead)."""
    required = langs if required is None else required
    out: list[Finding] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TEXT_KEYS and isinstance(value, dict):
                    for lang in langs:
                        if not value.get(lang):
                            what = ".".join(str(p) for p in (*path, key))
                            missing = src.finding(
                                "missing-translation", (*path, key), what=what, lang=lang, langs=", ".join(langs)
                            )
                            if lang not in required:
                                missing.severity = "warning"
                            out.append(missing)
                else:
                    walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    walk(src.data, ())
    return out


def check_framework(src: YamlSource) -> list[Finding]:
    data = src.data
    out = _dupes(
        src, ((("countries", i, "code"), c["code"]) for i, c in enumerate(data["countries"])), [phrase("kind_country")]
    )
    out += _dupes(src, ((("areas", i, "id"), a["id"]) for i, a in enumerate(data["areas"])), [phrase("kind_area")])
    out += _dupes(
        src,
        ((("institutions", i, "id"), x["id"]) for i, x in enumerate(data["institutions"])),
        [phrase("kind_institution")],
    )
    out += _dupes(
        src,
        ((("principles", i, "id"), p["id"]) for i, p in enumerate(data.get("principles", []))),
        [phrase("kind_principle")],
    )
    comps: dict[str, list[str]] = {}
    for ai, area in enumerate(data["areas"]):
        comps[area["id"]] = [c["id"] for c in area["components"]]
        out += _dupes(
            src,
            ((("areas", ai, "components", ci, "id"), c["id"]) for ci, c in enumerate(area["components"])),
            [phrase("kind_component_in", area=area["id"])],
        )
    for ii, inst in enumerate(data["institutions"]):
        for area_id, spec in (inst.get("areas") or {}).items():
            base = ("institutions", ii, "areas", area_id)
            if area_id not in comps:
                out.append(
                    src.finding(
                        "unknown-ref",
                        base,
                        kind=[phrase("kind_area")],
                        id=area_id,
                        where=[phrase("for_institution", id=inst["id"])],
                        known=", ".join(comps),
                    )
                )
                continue
            spec = spec or {}
            refs = [((*base, "components", k), c) for k, c in enumerate(spec.get("components") or [])]
            refs += [((*base, "component_weights", c), c) for c in (spec.get("component_weights") or {})]
            for path, comp in refs:
                if comp not in comps[area_id]:
                    out.append(
                        src.finding(
                            "unknown-ref",
                            path,
                            kind=[phrase("kind_component_of", area=area_id)],
                            id=comp,
                            where=[phrase("for_institution", id=inst["id"])],
                            known=", ".join(comps[area_id]),
                        )
                    )
    asked: dict[str, list[str]] = {f"{a}.{c}": [] for a, cs in comps.items() for c in cs}
    for inst in data["institutions"]:
        for area_id, spec in (inst.get("areas") or {}).items():
            listed = spec.get("components") if isinstance(spec, dict) else None
            for comp in listed or comps.get(area_id, []):
                asked.setdefault(f"{area_id}.{comp}", []).append(inst["id"])
    for ai, area in enumerate(data["areas"]):
        for ci, comp in enumerate(area["components"]):
            who = asked.get(f"{area['id']}.{comp['id']}", [])
            if len(who) < 2:
                warning = src.finding(
                    "thin-component",
                    ("areas", ai, "components", ci, "id"),
                    id=f"{area['id']}.{comp['id']}",
                    who=", ".join(who) or [phrase("no_institution")],
                    n=len(who),
                )
                warning.severity = "warning"
                out.append(warning)
    langs = list(data.get("languages") or ["en"])
    unknown = [x for x in data.get("required_languages") or [] if x not in langs]
    for lang in unknown:
        out.append(
            src.finding(
                "unknown-ref",
                ("required_languages",),
                kind=[phrase("kind_language")],
                id=lang,
                where="",
                known=", ".join(langs),
            )
        )
    return out + _translations(src, langs, data.get("required_languages"))


def check_questionnaire(src: YamlSource, fw: YamlSource | None) -> list[Finding]:
    from consult.definitions.framework import Framework
    from consult.definitions.questionnaire import Questionnaire

    data = src.data
    out: list[Finding] = []
    lists = data.get("choice_lists") or {}
    for name, choices in lists.items():
        out += _dupes(
            src,
            ((("choice_lists", name, i, "code"), str(c["code"])) for i, c in enumerate(choices)),
            [phrase("kind_choice_in", list=name)],
        )
    out += _dupes(
        src, ((("sections", i, "id"), s["id"]) for i, s in enumerate(data["sections"])), [phrase("kind_section")]
    )
    fwd = fw.data if fw else None
    institutions = [i["id"] for i in fwd["institutions"]] if fwd else []
    countries = [c["code"] for c in fwd["countries"]] if fwd else []
    global_ids = [
        ((("sections", si, "questions", qi, "id"), q["id"]))
        for si, s in enumerate(data["sections"])
        if not s.get("repeat")
        for qi, q in enumerate(s["questions"])
    ]
    out += _dupes(src, global_ids, [phrase("kind_question")])
    known_global = {q for _, q in global_ids}
    for si, sec in enumerate(data["sections"]):
        local = {q["id"] for q in sec["questions"]}
        if sec.get("repeat"):
            out += _dupes(
                src,
                ((("sections", si, "questions", qi, "id"), q["id"]) for qi, q in enumerate(sec["questions"])),
                [phrase("kind_question")],
            )
        for qi, q in enumerate(sec["questions"]):
            qpath = ("sections", si, "questions", qi)
            choices = q.get("choices")
            known_lists = [*lists, "@components", "@areas"]
            if choices and choices not in known_lists:
                out.append(
                    src.finding(
                        "unknown-ref",
                        (*qpath, "choices"),
                        kind=[phrase("kind_choice_list")],
                        id=choices,
                        where="",
                        known=", ".join(known_lists),
                    )
                )
            if q.get("repeat") == "component" and not sec.get("repeat"):
                out.append(
                    src.finding(
                        "schema",
                        (*qpath, "repeat"),
                        detail="'repeat: component' is only allowed in a section with 'repeat: area'",
                    )
                )
            when = q.get("when") or {}
            target = when.get("question")
            if target is not None and target not in local | known_global:
                out.append(src.finding("when-unknown-question", (*qpath, "when", "question"), id=target))
            if target is not None and not any(k in when for k in ("equals", "in", "includes")):
                out.append(
                    src.finding(
                        "schema", (*qpath, "when"), detail="'when' with 'question' needs one of equals, in, includes"
                    )
                )
            for key, known, kind in (
                ("institution", institutions, [phrase("kind_institution")]),
                ("country", countries, [phrase("kind_country")]),
            ):
                for k, ident in enumerate(when.get(key) or [] if fwd else []):
                    if ident not in known:
                        out.append(
                            src.finding(
                                "unknown-ref",
                                (*qpath, "when", key, k),
                                kind=kind,
                                id=ident,
                                where="",
                                known=", ".join(known),
                            )
                        )
    out += check_roles(src)
    langs = list(fwd.get("languages") or ["en"]) if fwd else ["en", "ru"]
    out += _translations(src, langs, (fwd or {}).get("required_languages") if fwd else None)
    if fwd and not out:
        out += _rank_fit(src, Questionnaire.from_dict(data), Framework.from_dict(fwd))
    return out


def _rank_fit(src: YamlSource, qn: Questionnaire, framework: Framework) -> list[Finding]:
    """A rank question must have choices to rank for every institution asked it (an error), and
    as many as places to fill (a warning): its choices are resolved per institution."""
    from consult.definitions.questionnaire import resolve

    out: list[Finding] = []
    for si, sec in enumerate(qn.sections):
        for qi, q in enumerate(sec.questions):
            if q.qtype.layout != SLOTS:
                continue
            for inst in framework.institutions:
                form = resolve(qn, framework, framework.countries[0].code, inst.id)
                items = [i for i in form.items if i.qid == q.id]
                if q.when and not any(q.when.asked(c.code, inst.id) for c in framework.countries):
                    continue
                if items and not items[0].choices:
                    out.append(
                        src.finding(
                            "empty-rank", ("sections", si, "questions", qi, "choices"), id=q.id, institution=inst.id
                        )
                    )
                elif items and len(items[0].choices) < q.size:
                    warning = src.finding(
                        "rank-size",
                        ("sections", si, "questions", qi, "size"),
                        id=q.id,
                        size=q.size,
                        institution=inst.id,
                        n=len(items[0].choices),
                    )
                    warning.severity = "warning"
                    out.append(warning)
    return out


def check_roles(src: YamlSource) -> list[Finding]:
    """Every role where its type, section and count fit (consult.definitions.roles.ROLES)."""
    out: list[Finding] = []
    per_questionnaire: dict[str, list[tuple[Any, ...]]] = {}
    for si, sec in enumerate(src.data["sections"]):
        in_area = sec.get("repeat") == "area"
        per_section: dict[str, list[str]] = {}
        for qi, q in enumerate(sec["questions"]):
            role = q.get("role")
            if role is None or role not in ROLES:
                continue  # no role: kept and shown in the annex; an unknown role is a schema finding
            path = ("sections", si, "questions", qi, "role")
            out += _role_fit(src, path, role, q, in_area)
            per_section.setdefault(role, []).append(q["id"])
            per_questionnaire.setdefault(role, []).append(path)
        for role, ids in per_section.items():
            if ROLES[role].limit in ("one", "section") and len(ids) > 1:
                out.append(
                    src.finding(
                        "role-count",
                        ("sections", si, "questions"),
                        detail=f"section '{sec['id']}' has {len(ids)} questions with role '{role}' "
                        f"({', '.join(ids)}); scoring needs exactly one",
                        fix=f"keep '{role}' on one question; give the others another role or none",
                    )
                )
        if in_area and "area_priority" not in per_section:
            out.append(
                src.finding(
                    "role-count",
                    ("sections", si, "repeat"),
                    detail=f"section '{sec['id']}' repeats per area but no question has role 'area_priority'",
                    fix="add 'role: area_priority' to the rating that gives the area's overall priority",
                )
            )
    for role, paths in per_questionnaire.items():
        if ROLES[role].limit == "questionnaire" and len(paths) > 1:
            for path in paths[1:]:
                out.append(
                    src.finding(
                        "role-count",
                        path,
                        detail=f"a second question with role '{role}' (first on line {src.where(paths[0])[0]})",
                        fix=f"a questionnaire has at most one '{role}' question",
                    )
                )
    return out


def _role_fit(src: YamlSource, path: tuple[Any, ...], role: str, q: dict[str, Any], in_area: bool) -> list[Finding]:
    """One question against its role's rule: type, section, component repeat and choice list."""
    rule = ROLES[role]
    out: list[Finding] = []
    if q["type"] not in rule.types:
        out.append(src.finding("role-type", path, role=role, types=" or ".join(rule.types), type=q["type"]))
    if rule.place == "area" and not in_area:
        detail = "belongs in a section with 'repeat: area' (it is answered per programme area)"
        out.append(src.finding("role-place", path, role=role, detail=detail))
    if rule.place == "global" and in_area:
        detail = "is asked once per questionnaire: move it out of the 'repeat: area' section"
        out.append(src.finding("role-place", path, role=role, detail=detail))
    if rule.component is True and q.get("repeat") != "component":
        out.append(src.finding("role-place", path, role=role, detail="needs 'repeat: component'"))
    if rule.component is False and q.get("repeat") == "component":
        detail = "is the area's own question: remove 'repeat: component' or use 'component_priority'"
        out.append(src.finding("role-place", path, role=role, detail=detail))
    if rule.choices and q.get("choices") != rule.choices:
        detail = f"needs 'choices: \"{rule.choices}\"' (found {q.get('choices')!r})"
        out.append(src.finding("role-place", path, role=role, detail=detail))
    return out


def check_taxonomy(src: YamlSource, fw: YamlSource | None) -> list[Finding]:
    if not fw:
        return []
    comps = {a["id"]: [c["id"] for c in a["components"]] for a in fw.data["areas"]}
    out = []
    for area_id, spec in src.data["areas"].items():
        if area_id not in comps:
            out.append(
                src.finding(
                    "unknown-ref",
                    ("areas", area_id),
                    kind=[phrase("kind_area")],
                    id=area_id,
                    where="",
                    known=", ".join(comps),
                )
            )
            continue
        for comp in (spec or {}).get("components") or {}:
            if comp not in comps[area_id]:
                out.append(
                    src.finding(
                        "unknown-ref",
                        ("areas", area_id, "components", comp),
                        kind=[phrase("kind_component_of", area=area_id)],
                        id=comp,
                        where="",
                        known=", ".join(comps[area_id]),
                    )
                )
    return out


def check_messages(src: YamlSource, fw: YamlSource | None) -> list[Finding]:
    langs = list(fw.data.get("languages") or ["en"]) if fw else ["en", "ru"]
    required = list(fw.data.get("required_languages") or langs) if fw else ["en", "ru"]
    out = []
    for key, texts in src.data["messages"].items():
        for lang in langs:
            if lang not in texts:
                missing = src.finding(
                    "missing-translation", ("messages", key), what=f"message '{key}'", lang=lang, langs=", ".join(langs)
                )
                if lang not in required:
                    missing.severity = "warning"
                out.append(missing)
    return out


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a ``str.format`` template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def check_problems(src: YamlSource) -> list[Finding]:
    """The problem catalogue (problems.yaml): every language of a message, a fix or a phrase
    fills in the same parameters as the English, or a finding would crash or lose its detail in
    one of them (the schema already requires English and Russian)."""
    entries: list[tuple[tuple[str, ...], str, str, dict[str, str]]] = [
        (("problems", code, part), code, part, texts)
        for code, parts in src.data["problems"].items()
        for part, texts in parts.items()
    ]
    entries += [(("phrases", key), key, "phrase", texts) for key, texts in (src.data.get("phrases") or {}).items()]
    out = []
    for path, name, part, texts in entries:
        expected = placeholders(texts["en"])
        for lang, template in texts.items():
            try:
                found = placeholders(template)
            except ValueError as exc:  # an unmatched brace
                found = {f"? ({exc})"}
            if found != expected:
                out.append(
                    src.finding(
                        "problem-placeholders",
                        (*path, lang),
                        problem=name,
                        part=part,
                        lang=lang,
                        found=", ".join(sorted(found)) or "none",
                        expected=", ".join(sorted(expected)) or "none",
                    )
                )
    return out


def _framework_for(src: YamlSource, cache_: dict[Path, YamlSource]) -> tuple[YamlSource | None, list[Finding]]:
    """The framework a questionnaire/taxonomy refers to (default: framework.yaml beside it)."""
    name = (src.data or {}).get("framework", "framework.yaml") if isinstance(src.data, dict) else "framework.yaml"
    path = (Path(src.file).parent / name).resolve()
    if path in cache_:
        return cache_[path], []
    if not path.exists():
        return None, [
            src.finding(
                "unknown-ref",
                ("framework",),
                kind=[phrase("kind_framework_file")],
                id=name,
                where=[phrase("looked_for", path=str(path))],
                known=[phrase("framework_beside")],
            )
        ]
    fw = load_yaml(path)
    findings = list(fw.findings)
    if not fw.findings:
        findings += check_schema(fw, "framework")
    if findings:
        return None, []
    cache_[path] = fw
    return fw, []


def validate_source(src: YamlSource, cache_: dict[Path, YamlSource] | None = None) -> list[Finding]:
    """All findings for one parsed YAML file."""
    cache_ = {} if cache_ is None else cache_
    if src.findings and src.data is None:
        return list(src.findings)
    kind = detect_kind(src)
    if kind is None:
        return [
            *src.findings,
            src.finding(
                "schema",
                (),
                detail="cannot tell what this file is: expected a framework, questionnaire, taxonomy or messages file",
            ),
        ]
    findings = list(src.findings) + check_schema(src, kind)
    if findings:
        return findings
    if kind == "framework":
        return check_framework(src)
    if kind == "problems":
        return check_problems(src)
    if kind == "consult":
        return []  # its cross-checks need the workspace's definitions: consult.workspace does them
    if kind == "mapping":
        from consult.definitions.mapping import validate_mapping

        return validate_mapping(src)
    fw, extra = _framework_for(src, cache_)
    checker = {"questionnaire": check_questionnaire, "taxonomy": check_taxonomy, "messages": check_messages}[kind]
    return extra + checker(src, fw)


def yaml_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml"))
        else:
            files.append(p)
    return files


def validate_paths(paths: Iterable[Path] | None = None) -> tuple[list[Path], list[Finding]]:
    """Validate YAML files or folders (default: the bundled definitions)."""
    files = yaml_files(list(paths) if paths else [data_dir("questionnaires")])
    cache_: dict[Path, YamlSource] = {}
    findings: list[Finding] = []
    for f in files:
        findings += validate_source(load_yaml(f), cache_)
    return files, findings
