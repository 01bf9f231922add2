"""Question roles: what a question *means* to scoring and synthesis, declared in the YAML.

The analysis never recognises a question by its id. A question says what it is for
(``role: area_priority``), and scoring and the synthesis select questions by role only; a
question without a role is kept, exported and shown in the synthesis annex of other
answers, never scored by guess. The rules below say where each role fits (its type, whether
it belongs to an area section, per component, how many), so that ``consult validate`` can
refuse a questionnaire whose meaning is missing or contradictory, with the YAML line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleRule:
    types: tuple[str, ...]
    place: str  # "area": only in a `repeat: area` section; "global": only outside one; "any"
    component: bool | None = None  # True: needs `repeat: component`; False: must not have it
    choices: str | None = None  # the choice source the role needs ("@components", "@areas")
    limit: str = "many"  # "one": exactly one per area section; "section": at most one per section;
    # "questionnaire": at most one in the whole questionnaire
    doc: str = ""


ROLES: dict[str, RoleRule] = {
    "area_priority": RoleRule(
        ("rating",), "area", component=False, limit="one", doc="the overall priority of the area: scored"
    ),
    "component_priority": RoleRule(
        ("rating",), "area", component=True, limit="section", doc="the priority of each component: scored"
    ),
    "ranking": RoleRule(
        ("rank",), "any", choices="@components", limit="questionnaire", doc="top-N components: Borda points"
    ),
    "challenge": RoleRule(("text",), "any", doc="challenges, quoted under their area; taxonomy mentions"),
    "emerging": RoleRule(("text",), "any", doc="emerging challenges: own section; taxonomy mentions"),
    "proposal": RoleRule(("text",), "any", doc="proposals for support: own section; taxonomy mentions"),
    "initiative": RoleRule(("text",), "any", doc="ongoing initiatives and partners: own section"),
    "assistance": RoleRule(("multiple",), "area", limit="section", doc="types of assistance needed, counted"),
    "assistance_detail": RoleRule(("text",), "area", limit="section", doc="other assistance, quoted"),
    "crosscutting": RoleRule(("multiple",), "any", limit="questionnaire", doc="cross-cutting issues, counted"),
    "crosscutting_note": RoleRule(("text",), "any", doc="a cross-cutting issue in words, quoted under its label"),
    "regional_view": RoleRule(("single",), "global", doc="a view on the regional question, counted"),
    "regional_comment": RoleRule(("text",), "global", doc="comments on the regional question, quoted"),
    "cooperation_areas": RoleRule(
        ("multiple",), "global", choices="@areas", limit="questionnaire", doc="areas for inter-regional work, counted"
    ),
    "cooperation_comment": RoleRule(("text",), "global", doc="inter-regional mechanisms, quoted"),
    "completion_date": RoleRule(
        ("date",), "global", limit="questionnaire", doc="the date the respondent gave: which return is newer"
    ),
}

SCORED = ("area_priority", "component_priority", "ranking")
QUOTED = (
    "challenge",
    "emerging",
    "proposal",
    "initiative",
    "assistance_detail",
    "crosscutting_note",
    "regional_comment",
    "cooperation_comment",
)
