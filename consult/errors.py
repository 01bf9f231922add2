"""Errors and findings.

Two kinds of trouble flow through consult and they must not be confused:

* a :class:`ConsultError` is raised when an operation cannot go on (a file that does
  not exist, a workspace that is missing). The CLI turns it into one ``Error: ...`` line
  and exit code 1.
* a :class:`Finding` is a problem *in the data* (a YAML line, a workbook cell). Findings are
  collected, never raised one by one, so that a user fixes every problem in one pass.

Every finding carries a stable ``code`` of the problem catalogue (:mod:`consult.problems`,
``questionnaires/problems.yaml``), which words its message and fix in English and Russian;
tests build the expected text from the same catalogue, so wording lives in one place.
``Finding.message`` and ``.fix`` are English; ``message_in(lang)``, ``fix_in(lang)`` and
``text_in(lang)`` give them in another language of the catalogue.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from consult import problems
from consult.types import Severity

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control characters (ESC starts a terminal escape
    sequence), bidirectional overrides and invisible characters become visible escapes such
    as ``\\x1b``, so a file name can neither rewrite the screen nor hide part of itself."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class ConsultError(Exception):
    """An operation that cannot proceed; the message says what to do about it."""

    def text_in(self, lang: str) -> str:  # noqa: ARG002 (a subclass that lists findings words them in lang)
        """The message in ``lang``: ``str(self)``, unless the error lists findings."""
        return str(self)


class UsageError(ConsultError):
    """The command was called wrongly (exit code 2)."""


@dataclass
class Finding:
    """One problem in the data, located as precisely as we can, with the fix."""

    code: str
    file: str = ""
    line: int | None = None
    column: int | None = None
    sheet: str | None = None
    cell: str | None = None
    question: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "error"
    row: int | None = None  # a submission's row in a KoboToolbox/ODK export; ``cell`` is then its column
    # the texts as stored with a finding read back (message, fix, text): shown when this release's
    # catalogue no longer renders it (a code renamed, a parameter added); never compared or stored
    recorded: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.message_in(problems.DEFAULT)

    @property
    def fix(self) -> str:
        """How to fix it, in English."""
        return self.fix_in(problems.DEFAULT)

    def message_in(self, lang: str) -> str:
        """What is wrong, in ``lang`` (English where the catalogue has no ``lang``)."""
        return self._render("message", lang)

    def fix_in(self, lang: str) -> str:
        """How to fix it, in ``lang`` (English where the catalogue has no ``lang``)."""
        return self._render("fix", lang)

    def _render(self, part: problems.Part, lang: str) -> str:
        if self.recorded:  # read back from the store: an older release may have worded it
            try:
                return problems.template(self.code, part, lang).format(**self._params_in(lang))
            except (KeyError, IndexError, ValueError):
                return self.recorded.get(part) or self.code
        return problems.template(self.code, part, lang).format(**self._params_in(lang))

    def _params_in(self, lang: str) -> dict[str, Any]:
        """The parameters, the worded ones said in ``lang`` (their stored English where a phrase
        is unknown to this release's catalogue)."""
        worded = self.params.get("worded")
        if not worded or lang == problems.DEFAULT:
            return self.params
        params = dict(self.params)
        for name, pieces in worded.items():
            with contextlib.suppress(KeyError, IndexError, ValueError):
                params[name] = problems.say(pieces, lang)
        return params

    @property
    def location(self) -> str:
        """Where the problem is, in the form the user's editor or Excel shows it."""
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column or 1}"
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}" + (f", column {self.cell}" if self.cell else ""))
        elif self.sheet:
            ref = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
            if " " in self.sheet and self.cell:
                ref = f"'{self.sheet}'!{self.cell}"
            parts.append(ref)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.text_in(problems.DEFAULT)

    def text_in(self, lang: str) -> str:
        """The one line a user reads: where, then what is wrong in ``lang``."""
        where = self.location
        if self.question:
            where = f"{where} ({self.question})" if where else f"({self.question})"
        message = self.message_in(lang)
        return f"{where}: {message}" if where else message

    def to_dict(self, lang: str = problems.DEFAULT) -> dict[str, Any]:
        """The finding as JSON data (``--json`` and the store): its fields, plus the derived
        ``message``, ``fix`` and ``text`` for a reader that has no catalogue, worded in
        ``lang`` (English for the store), which ``lang`` names."""
        data = asdict(self)
        del data["recorded"]
        data["message"] = self.message_in(lang)
        data["fix"] = self.fix_in(lang)
        data["text"] = self.text_in(lang)
        data["lang"] = lang
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`: the derived texts are not fields, they are kept
        aside (``recorded``) and shown only when the catalogue can no longer render the
        finding. Unknown keys (from a later release) are ignored."""
        names = {f for f in cls.__dataclass_fields__ if f != "recorded"}
        fields = {k: v for k, v in data.items() if k in names}
        fields["params"] = dict(fields.get("params") or {})
        recorded = {k: str(data[k]) for k in ("message", "fix", "text") if isinstance(data.get(k), str)}
        return cls(**fields, recorded=recorded)


def __getattr__(name: str) -> dict[str, tuple[str, str]]:
    """``CATALOGUE``, code -> (message, fix) in English, as it was when it was code here; read
    from the catalogue on first use, so importing this module reads no YAML."""
    if name == "CATALOGUE":
        return problems.english()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def finding(code: str, **kwargs: Any) -> Finding:
    """Build a finding, splitting location fields from message parameters. A parameter given
    as phrases of the catalogue (``detail=[phrase("is_pdf")]``) is worded: kept as phrases
    under ``worded``, to be said in the reader's language, and in English under its name."""
    loc_keys = {"file", "line", "column", "sheet", "cell", "question", "severity", "row"}
    loc = {k: v for k, v in kwargs.items() if k in loc_keys}
    params = {k: v for k, v in kwargs.items() if k not in loc_keys}
    worded = {k: v for k, v in params.items() if k != "worded" and problems.is_worded(v)}
    if worded:
        params.update({k: problems.say(v) for k, v in worded.items()})
        params["worded"] = {**(params.get("worded") or {}), **worded}
    return Finding(code=code, params=params, **loc)
