"""The text side of compose: addresses as typed, quoted originals, simple formatting.

Simple formatting is a few typed marks (**bold**, *italic*, "- " lists, "> " quotes)
turned into HTML that is escaped first and sanitised after: it works the same with or
without JavaScript, and the text alternative is the typed text itself.
"""

from __future__ import annotations

import re
from html import escape

import bleach

from imap_bridge.models import Address

_ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "li", "blockquote", "a"}
_ALLOWED_ATTRIBUTES = {"a": ["href"]}
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_SPECIALS = set('()<>[]:;@\\,."')


def format_addresses(addresses: tuple[Address, ...] | list[Address]) -> str:
    """Addresses as a person would type them, ready to be parsed again."""
    parts = []
    for address in addresses:
        name = address.name.strip()
        if not name:
            parts.append(address.email)
        elif _SPECIALS.isdisjoint(name):
            parts.append(f"{name} <{address.email}>")
        else:
            quoted = name.replace("\\", "").replace('"', "")
            parts.append(f'"{quoted}" <{address.email}>')
    return ", ".join(parts)


def with_signature(body: str, signature: str) -> str:
    """The signature after its conventional "-- " line (RFC 3676 §4.3)."""
    signature = signature.strip("\n")
    if not signature:
        return body
    return f"{body}\n\n-- \n{signature}\n"


def rich_html(text: str) -> str:
    """Typed marks to sanitised HTML: paragraphs, line breaks, lists, quotes, bold,
    italic and web links; everything else stays text."""
    blocks: list[str] = []
    for kind, lines in _blocks(text):
        if kind == "list":
            blocks.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
                          + "</ul>")
        elif kind == "quote":
            inner = "<br>".join(_inline(line[1:].lstrip()) for line in lines)
            blocks.append(f"<blockquote><p>{inner}</p></blockquote>")
        else:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    clean = bleach.clean("\n".join(blocks), tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                         protocols={"http", "https"}, strip=True)
    return f"<!doctype html>\n<html><body>\n{clean}\n</body></html>\n"


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Consecutive lines of one kind (list item, quote, text); blank lines separate."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            blocks.append(("break", []))
            continue
        kind = ("list" if line.startswith(("- ", "* ")) else
                "quote" if line.startswith(">") else "text")
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].append(line)
        else:
            blocks.append((kind, [line]))
    return [block for block in blocks if block[0] != "break"]


def _inline(line: str) -> str:
    text = escape(line, quote=True)
    text = _LINK.sub(lambda m: f'<a href="{m.group()}">{m.group()}</a>', text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _ITALIC.sub(r"<em>\1</em>", text)
