"""The document model of a synthesis: a flat sequence of blocks, built once, rendered twice.

:mod:`consult.report.synthesis` decides the order and content of sections and produces a
:class:`Document`; :mod:`consult.report.markdown` and :mod:`consult.report.word` are thin
renderers of these blocks. So Markdown and Word cannot drift apart in structure, and a test
can check the content (each quote once, no tool names in the body) without parsing either.

Text is plain text: a renderer escapes it for its format (Markdown, XML), so an answer that
contains ``|``, ``<script>`` or a control character can never change the document's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# characters XML 1.0 forbids (python-docx refuses them) and terminal escapes
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean(value: object) -> str:
    """Plain text safe for any output: control characters removed, never raises."""
    return _CONTROL.sub("", str(value))


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


Inline = str | Run


def runs(*parts: Inline) -> list[Run]:
    return [p if isinstance(p, Run) else Run(p) for p in parts if (p.text if isinstance(p, Run) else p)]


@dataclass
class Heading:
    text: str
    level: int = 1  # 1 section, 2 subsection, 3 minor


@dataclass
class Paragraph:
    parts: list[Run]
    style: str = (
        "body"  # body, note (small italic), caption, source (under a table or figure), draft (the office edits it)
    )

    @classmethod
    def of(cls, *parts: Inline, style: str = "body") -> Paragraph:
        return cls(runs(*parts), style)


@dataclass
class Bullets:
    items: list[list[Run]]

    @classmethod
    def of(cls, items: list[list[Inline]] | list[str]) -> Bullets:
        return cls([runs(*(i if isinstance(i, list) else [i])) for i in items])


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # centimetres; the renderer scales them to the text width
    align: str = ""  # one letter per column, "l" or "r" (default left)
    caption: str = ""  # above the table (UN style)
    note: str = ""  # below the table (e.g. what † means)
    landscape: bool = False  # too wide for a portrait A4 page
    source: str = ""  # "Source: ..." line under the table (and its note)
    sort: tuple[int, str] | None = None  # (column, "desc"/"asc"): the order the caption promises, checked by tests


@dataclass
class Quote:
    text: str
    attribution: str
    lang: str | None = None  # set when the quote is not in the document's language
    translation: str | None = None  # the office's translation, shown first, original beneath


@dataclass
class Figure:
    png: bytes
    name: str  # file name beside the Markdown
    caption: str  # above the figure, like a table caption
    width_cm: float = 15.0
    alt: str = ""  # alternative text for screen readers (Word: the picture's description)
    source: str = ""


@dataclass
class Contents:
    """The list of sections (level-1 headings that follow it); Word gets a TOC field the reader
    can update for page numbers, with the headings already filled in."""

    title: str


@dataclass
class PageBreak:
    pass


Block = Heading | Paragraph | Bullets | Table | Quote | Figure | PageBreak | Contents


@dataclass
class Document:
    title: str
    subtitle: str
    lang: str
    page_label: str  # "Page", "Стр."
    header: str = ""  # running header of printed pages
    status: str = ""  # the cover line under the title: status, version, date
    purpose: str = ""  # one sentence under it: what the document is for
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def sections(self) -> list[str]:
        """The level-1 headings after the contents block (what the contents list)."""
        at = next((i for i, b in enumerate(self.blocks) if isinstance(b, Contents)), -1)
        return [b.text for b in self.blocks[at + 1 :] if isinstance(b, Heading) and b.level == 1]

    def quotes(self) -> list[Quote]:
        return [b for b in self.blocks if isinstance(b, Quote)]

    def texts(self) -> list[str]:
        """Every text of the body (for tests: what a reader sees, in order)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Heading):
                out.append(b.text)
            elif isinstance(b, Paragraph):
                out.append("".join(r.text for r in b.parts))
            elif isinstance(b, Bullets):
                out += ["".join(r.text for r in item) for item in b.items]
            elif isinstance(b, Table):
                out += [b.caption, *b.header, *(c for row in b.rows for c in row), b.note, b.source]
            elif isinstance(b, Quote):
                out += [b.text, b.attribution, b.translation or ""]
            elif isinstance(b, Figure):
                out += [b.caption, b.source]
            elif isinstance(b, Contents):
                out += [b.title, *self.sections()]
        return [t for t in out if t]
