"""The covering note: a short e-mail in the form's languages and English, and the due date.

It names what is wrong (at most ``NOTE_LIMIT`` problems; the workbook lists them all), when the
corrections are due and whom to contact, and nothing of any other institution.

Why a module of its own: the note is what a facilitator pastes into an e-mail, in several
languages, from the same problems the workbook marks; keeping it apart lets the workbook list
every problem while the note stays short and free of anything the recipient should not see.
"""

from __future__ import annotations

import datetime as dt

from consult.definitions import Definition
from consult.definitions.framework import text
from consult.definitions.wording import Wording
from consult.feedback.placement import Problem
from consult.feedback.returned import is_rejected
from consult.store import ReturnRow
from consult.workspace import Workspace

NOTE_LIMIT = 15  # problems listed in the covering note; the workbook lists them all


FEEDBACK_DAYS = 14  # time given to correct a return once the round's deadline has passed


def feedback_due(deadline: str | None, today: dt.date | None = None) -> str | None:
    """The date corrections are asked for: the round's deadline while it is ahead, else two
    weeks from today (a workbook never asks for corrections by a date already past)."""
    if not deadline:
        return None
    today = today or dt.date.today()
    try:
        due = dt.date.fromisoformat(deadline[:10])
    except ValueError:
        return deadline
    return (due if due >= today else today + dt.timedelta(days=FEEDBACK_DAYS)).isoformat()


def deadline_text(ws: Workspace, words: Wording, lang: str) -> str | None:
    due = feedback_due(ws.deadline)
    return words.date(due, lang) if due else None


# --- the covering note ------------------------------------------------------------------------


def note_languages(form_langs: list[str], definition: Definition) -> list[str]:
    """The note's languages: the form's own first, then English. A language feedback.yaml has
    no note in would only repeat the English one, so it is left out."""
    words = Wording.of(definition, "feedback", form_langs)
    return [x for x in form_langs if x != "en" and words.has("note_greeting", x)] + ["en"]


def covering_note(
    words: Wording,
    ws: Workspace,
    definition: Definition,
    country: str,
    institution: str,
    row: ReturnRow,
    kind: str,
    problems: list[Problem],
    attachment: str,
    reason: dict[str, str] | None = None,
) -> str:
    """The e-mail text: what is wrong, by when, whom to ask. Only this institution's problems;
    the answers of a question that asks for personal data are never quoted."""
    fw = definition.framework
    blocks = []
    for lang in words.langs:
        received = words.date(row.received_at, lang)
        inst = text(fw.institution_by_id[institution].name, lang)
        ctry = text(fw.country_by_code[country].name, lang)
        fmt = {"institution": inst, "country": ctry, "received": received, "n": len(problems)}
        lines = [words.one("note_subject", lang, title=ws.title_in(lang), institution=inst), ""]
        lines += [words.one("note_greeting", lang), ""]
        if kind == "blank":
            lines.append(words.one("note_unreadable", lang, reason=(reason or {}).get(lang, ""), **fmt))
            lines.append(words.one("note_attached_fresh", lang, attachment=attachment))
        else:
            status = "rejected" if is_rejected(row) else row.status
            key = {"rejected": "note_rejected", "incomplete": "note_incomplete"}.get(status, "note_warnings")
            lines.append(words.one(key, lang, **fmt))
            lines.append(words.one("note_attached", lang, attachment=attachment))
            for p in problems[:NOTE_LIMIT]:
                where = p.ref or words.one("whole_file", lang)
                number = f" ({words.one('note_question', lang, number=p.number)})" if p.number else ""
                what = p.what[lang]
                if p.personal and words.has(f"problem_{p.code}"):  # never quote personal data
                    what = words.one(f"problem_{p.code}", lang, found="…", rows="", sheet=p.sheet or "")
                lines.append(f"  - {where}{number}: {what} {p.fix.get(lang, '')}".rstrip())
            if len(problems) > NOTE_LIMIT:
                lines.append("  " + words.one("note_more", lang, n=len(problems) - NOTE_LIMIT))
        lines.append("")
        deadline = deadline_text(ws, words, lang)
        lines.append(
            words.one("note_return", lang, deadline=deadline) if deadline else words.one("note_return_asap", lang)
        )
        if ws.contact:
            lines.append(words.one("note_contact", lang, contact=ws.contact))
        lines += ["", words.one("note_thanks", lang)]
        blocks.append("\n".join(lines))
    return ("\n\n" + "-" * 60 + "\n\n").join(blocks) + "\n"
