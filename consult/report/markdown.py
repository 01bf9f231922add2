"""Markdown rendering of a :class:`~consult.report.document.Document`.

The layout of each block lives in ``templates/document.md.j2`` (an editor may restyle it);
everything that comes from respondents or file names is escaped here first: Markdown
punctuation, HTML (so ``<script>`` or ``<img onerror>`` stay text), table cell separators
and line breaks, and every line of a quote stays inside its blockquote.
"""

from __future__ import annotations

import html
import re
from functools import cache

import jinja2

from consult.report.document import (
    Bullets,
    Contents,
    Document,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    Quote,
    Run,
    Table,
    clean,
)
from consult.resources import data_dir

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # emphasis, code, links/images, tables, strike-through
_LINE_START = re.compile(r"^(\s*)([#+-]|={3,})", re.MULTILINE)  # headings, lists, rules (">" is &gt; already)
_NUMBERED = re.compile(r"^(\s*\d+)([.)]\s)", re.MULTILINE)  # "1. " would start a numbered list


def escape(value: str) -> str:
    """Inline text that Markdown and HTML show as written (no links, images, markup or raw
    HTML: ``<`` becomes ``&lt;``); parentheses and other harmless punctuation stay readable."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(clean(value), quote=False))


def escape_block(value: str) -> str:
    """Text that starts lines (paragraphs, quote lines): also no heading, list or rule by accident."""
    return escape_block_start(escape(value))


def cell(value: str) -> str:
    """A table cell: escaped, on one line."""
    return re.sub(r"\s*\n\s*", " ", escape(value)).strip() or " "


def inline(parts: list[Run]) -> str:
    out: list[str] = []
    for r in parts:
        text = escape(r.text)
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        core = text.strip()
        if core and r.bold:
            core = f"**{core}**"
        if core and r.italic:
            core = f"*{core}*"
        out.append(lead + core + trail)
    return escape_block_start("".join(out))


def escape_block_start(text: str) -> str:
    """A paragraph must not start a heading, list or quote (its first run is escaped alone)."""
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _NUMBERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def quote_lines(value: str) -> list[str]:
    return [escape_block(line) for line in clean(value).strip().splitlines()] or [""]


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=False,  # escaping is done above, for Markdown, not HTML templates
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(escape=escape, cell=cell, inline=inline, quote_lines=quote_lines)
    return env.get_template("document.md.j2")


def kind(block: object) -> str:
    return {
        Heading: "heading",
        Paragraph: "paragraph",
        Bullets: "bullets",
        Table: "table",
        Quote: "quote",
        Figure: "figure",
        PageBreak: "pagebreak",
        Contents: "contents",
    }[type(block)]


def render(doc: Document) -> str:
    text = _template().render(doc=doc, blocks=[(kind(b), b) for b in doc.blocks])
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
