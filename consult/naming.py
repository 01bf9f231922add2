"""The one naming rule for files whose content depends on the language: the language codes
go between the name and the extension, ``KZ-synthesis.en.docx``, ``KZ-MFA.en-ru.xlsx``.

Writing the Russian synthesis after the English one must not overwrite it; one rule for every
command (generate, feedback, synthesize, export, quotes export) means a user who learnt it
once finds every file.
"""

from __future__ import annotations

from collections.abc import Iterable


def tagged(stem: str, langs: str | Iterable[str], suffix: str) -> str:
    """``tagged("KZ-synthesis", "en", ".docx")`` is ``KZ-synthesis.en.docx``; several languages
    (a bilingual form) are joined in their order: ``KZ-MFA.en-ru.xlsx``."""
    codes = [langs] if isinstance(langs, str) else list(langs)
    return f"{stem}.{'-'.join(codes)}{suffix}"
