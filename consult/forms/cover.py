"""The cover, the first sheet of a questionnaire: whose form it is, by when, and how to fill it in.

It prints on a single sheet of paper (the form's cover letter): country, institution,
consultation, deadline, contact and version, what the form is for and how answers are quoted,
the instructions, then the list of the section sheets (written by :func:`consult.forms.writer.render_workbook`
as it adds each sheet, from the row :func:`write_cover` returns).

Why a module of its own: the cover is what an official reads before anything else and prints
as the form's letter; its wording and layout change for reasons (a deadline, a contact, the
print bound of one page) that never touch how answers are laid out and read back.
"""

from __future__ import annotations

from consult.definitions import Definition
from consult.definitions.questionnaire import Form
from consult.definitions.wording import Wording, joined
from consult.forms.sheet import Sheet
from consult.workspace import Workspace

WIDTHS = {1: 36.0, 2: 112.0}  # the cover's two columns: what, and its value


def write_cover(
    sheet: Sheet, form: Form, definition: Definition, workspace: Workspace, langs: list[str], tx: Wording
) -> int:
    """Country, institution, consultation, deadline, contact and instructions; returns the row
    where the list of sheets starts."""
    fw = definition.framework
    sheet.merge(1, 1, 2, joined(definition.questionnaire.title, langs, "\n"), "heading")
    sheet.fit(1)
    not_set = tx.joined("cover_not_set", langs=langs)
    deadline = (
        joined({lang: tx.date(workspace.deadline, lang) for lang in langs}, langs) if workspace.deadline else not_set
    )
    facts = [
        ("cover_country", joined(fw.country_by_code[form.country].name, langs)),
        ("cover_institution", joined(fw.institution_by_id[form.institution].name, langs)),
        ("cover_round", joined({lang: workspace.title_in(lang) for lang in langs}, langs, "\n")),
        ("cover_deadline", deadline),
        ("cover_contact", workspace.contact or not_set),
        ("cover_version", definition.questionnaire.version),
    ]
    r = 3
    for key, value in facts:
        sheet.put(r, 1, tx.joined(key, langs=langs), "bold")
        sheet.put(r, 2, value, "body")
        sheet.fit(r)
        r += 1
    r += 1
    for lang in langs:  # what the form is for, the time it takes, how answers are quoted (column B:
        sheet.put(r, 2, tx.one("cover_purpose", lang), "body")  # the cover's keys in A stay as they were)
        sheet.fit(r)
        r += 1
    for lang in langs:
        sheet.merge(r, 1, 2, tx.one("cover_instructions", lang), "body")
        sheet.fit(r)
        r += 1
    r += 1
    sheet.merge(r, 1, 2, tx.joined("cover_sections", langs=langs), "bold")
    sheet.fit(r)
    return r + 1
