"""Attachment names that are safe to show and to save, whatever the sender wrote."""

from __future__ import annotations

import mimetypes
import re
import unicodedata

# Controls, bidi overrides/isolates/marks, line and paragraph separators, and the
# characters Windows or a shell would treat specially. A name like
# "facture\u202Efdp.exe" must not display as "facture exe.pdf".
_UNSAFE = re.compile(
    '[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff<>:"|?*]'
)
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_LENGTH = 150


def safe_filename(name: str | None, *, content_type: str = "application/octet-stream",
                  fallback_stem: str = "attachment") -> str:
    """Keep the last path segment, drop what could spoof or traverse, keep the extension."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("", text)
    text = " ".join(text.split())  # no runs of spaces that would hide an extension
    text = text.strip(" .")  # no hidden files, no trailing dots (Windows drops them)
    if _WINDOWS_RESERVED.match(text):
        text = "_" + text
    if not text:
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
        text = fallback_stem + extension
    return _shorten(text)


def _shorten(text: str) -> str:
    if len(text) <= _MAX_LENGTH:
        return text
    stem, dot, extension = text.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return stem[: _MAX_LENGTH - len(extension) - 1] + "." + extension
    return text[:_MAX_LENGTH]
