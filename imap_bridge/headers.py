"""Decoding the few headers a message list shows, defensively (RFC 5322, RFC 2047)."""

from __future__ import annotations

import email.header
import email.utils
import re
from dataclasses import replace
from datetime import UTC, datetime

from imap_bridge.models import Address, MessageSummary

# C0/C1 controls, line and paragraph separators, bidi overrides and isolates: none of
# them may reach a one-line display, where they could fake a new line or reorder text.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]+"
)
_MAX_SUBJECT = 2000
_SIMPLE_ADDRESS = re.compile(
    r"(?:(?P<name>[^\"(),:;<>@\[\]\\]*?)\s*<(?P<addr>[^\s\"(),:;<>@\[\]\\]+@[A-Za-z0-9.-]+)>"
    r"|(?P<bare>[^\s\"(),:;<>@\[\]\\]+@[A-Za-z0-9.-]+))"
)


def one_line(text: str, limit: int = _MAX_SUBJECT) -> str:
    """Collapse anything that could break a line or reorder text into a single space."""
    return _UNSAFE_CHARS.sub(" ", text).strip()[:limit]


def decode_words(raw: str | bytes) -> str:
    """Decode RFC 2047 encoded words; unknown charsets and raw 8-bit bytes degrade, never fail."""
    if isinstance(raw, bytes):
        raw = _bytes_to_text(raw)
    if "=?" not in raw:  # no encoded word: the common case on a list page
        return one_line(raw)
    try:
        parts = email.header.decode_header(raw)
    except (ValueError, AssertionError, LookupError):
        return one_line(raw)
    decoded = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            decoded.append(chunk)
        else:
            decoded.append(_decode_chunk(chunk, charset))
    return one_line("".join(decoded))


def parse_addresses(raw: str | bytes, limit: int = 200) -> tuple[Address, ...]:
    """Addresses from a header; the display name is decoded, the address kept as written."""
    text = _bytes_to_text(raw) if isinstance(raw, bytes) else raw
    text = text.replace("\r", " ").replace("\n", " ")
    simple = _SIMPLE_ADDRESS.fullmatch(text.strip())
    if simple:  # "Name <a@b>" or "a@b" without quotes or comments: skip the full parser
        name, addr = simple.group("name") or "", simple.group("addr") or simple.group("bare")
        return (Address(name=decode_words(name.strip()), email=ascii_domain(one_line(addr, 320))),)
    pairs = email.utils.getaddresses([text])[:limit]
    return tuple(
        Address(name=decode_words(name), email=ascii_domain(one_line(addr, 320)))
        for name, addr in pairs if addr or name
    )


def ascii_domain(address: str) -> str:
    """Show an internationalised domain as punycode (xn--): a Cyrillic "а" in
    "cаbinet.test" must not pass for the practice's own domain."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    labels = []
    for label in domain.split("."):
        try:
            labels.append(label.encode("idna").decode("ascii") if label else label)
        except UnicodeError:
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
    return f"{local}@{'.'.join(labels)}"


def parse_date(raw: str | None, fallback: datetime | None = None) -> datetime | None:
    """A timezone-aware date from a Date header, else the fallback (the server's arrival date)."""
    if raw:
        try:
            parsed = email.utils.parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if fallback is not None and fallback.tzinfo is None:
        return fallback.replace(tzinfo=UTC)
    return fallback


def summary_from_headers(uid: int, header_block: bytes, *, flags: tuple[bytes, ...], size: int,
                         internal_date: datetime | None) -> MessageSummary:
    """Build a list row from the partial header block fetched for it."""
    fields = _unfold(header_block)
    senders = parse_addresses(fields.get("from", ""), limit=1)
    content_type = fields.get("content-type", "").lower()
    return MessageSummary(
        uid=uid,
        subject=decode_words(fields.get("subject", "")),
        sender=senders[0] if senders else None,
        to=parse_addresses(fields.get("to", ""), limit=5),
        date=parse_date(fields.get("date"), internal_date),
        size=int(size or 0),
        seen=b"\\Seen" in flags,
        flagged=b"\\Flagged" in flags,
        answered=b"\\Answered" in flags,
        has_attachments=content_type.startswith(("multipart/mixed", "application/")),
    )


def with_flags(summary: MessageSummary, flags: tuple[bytes, ...]) -> MessageSummary:
    """The same row with its flags as the server says they are now."""
    return replace(summary, seen=b"\\Seen" in flags, flagged=b"\\Flagged" in flags,
                   answered=b"\\Answered" in flags)


def _unfold(block: bytes) -> dict[str, str]:
    """Header name -> first value, unfolded; tolerant of truncation mid-line."""
    fields: dict[str, str] = {}
    current = None
    for line in _bytes_to_text(block).splitlines():
        if line[:1] in (" ", "\t") and current:
            fields[current] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            current = name.strip().lower()
            if current in fields:
                current = None  # the first occurrence wins, as RFC 5322 §3.6 allows only one
                continue
            fields[current] = value.strip()
        else:
            current = None
    return fields


def _bytes_to_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode_chunk(chunk: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate or candidate == "unknown-8bit":
            continue
        try:
            return chunk.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("latin-1")
