"""Plain-text bodies as HTML: escaped, with web and mail addresses made clickable."""

from __future__ import annotations

import re
from html import escape

# Linear-time patterns: one pass, no nested quantifiers. A URL stops at whitespace,
# quotes and angle brackets, so a link can never carry markup out of its attribute.
_LINK = re.compile(
    r"(?P<url>\b(?:https?://|www\.)[^\s<>\"'`\x00-\x1f]+)"
    r"|(?P<mail>\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}»"
_MAX_CHARS = 2_000_000


def text_to_html(text: str) -> str:
    """Escape everything, then wrap http(s) URLs and addresses in links opening a new tab.

    Only `http`, `https` and `mailto` links are ever produced: what a text body says
    (`javascript:`, `data:` …) stays text.
    """
    text = text[:_MAX_CHARS]
    out: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        start, end = match.span()
        found = match.group()
        if match.group("url"):
            found = found.rstrip(_TRAILING)
            if found.endswith("(") or not found.strip("/:."):
                continue
            end = start + len(found)
            href = found if "://" in found else "https://" + found
            link = _anchor(href, found)
        else:
            link = _anchor("mailto:" + found, found)
        out.append(escape(text[position:start]))
        out.append(link)
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _anchor(href: str, label: str) -> str:
    return (f'<a href="{escape(href, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{escape(label)}</a>')
