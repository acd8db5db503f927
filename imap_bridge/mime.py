"""Reading a raw message: headers, the bodies to show, attachments and inline images.

Whatever arrives (broken boundaries, 500 nested multiparts, unknown or hostile charsets,
20 MB headers), parsing returns something to show and a list of problems; it never
raises. Parts are numbered by one iterative walk, so a part id from `parse_message`
finds the same part in `get_part` later.
"""

from __future__ import annotations

import codecs
import email
import email.message
from collections.abc import Iterator
from dataclasses import replace
from email import policy

from imap_bridge.errors import MessageNotFound
from imap_bridge.filenames import safe_filename
from imap_bridge.headers import decode_words, one_line, parse_addresses, parse_date
from imap_bridge.models import Attachment, ParsedMessage
from imap_bridge.text import text_to_html

MAX_DEPTH = 40  # deeper multipart nesting is not walked (the parts stay in the .eml)
MAX_PARTS = 500
MAX_HEADER_CHARS = 16_384  # per header value, before decoding
MAX_SHOWN_HEADERS = 200
INLINE_IMAGE_TYPES = {  # raster only: an SVG is a document that can carry script
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/bmp": (b"BM",),
}
MAX_INLINE_IMAGE_BYTES = 5 * 1024 * 1024


def parse_message(uid: int, raw: bytes) -> ParsedMessage:
    """Decode what the message view shows; problems are reported, never raised.

    Inline text and HTML parts are kept in their order; of a multipart/alternative only
    the richest version is shown. When any part is HTML, text parts join it as escaped
    blocks, so a mixed message shows all of its text in one place.
    """
    problems: list[str] = []
    message = _parse(raw, problems)
    segments: list[tuple[str, str]] = []
    attachments: list[Attachment] = []
    plain_versions: list[str] = []  # text alternatives of an HTML body, for replies
    for part_id, part, shown in _walk(message, problems):
        content_type = part.get_content_type()
        if part.is_multipart():
            continue
        if not shown:
            if content_type == "text/plain" and _is_body(part, content_type):
                plain_versions.append(_decode_text(part, problems))
            continue
        if _is_body(part, content_type):
            segments.append((content_type, _decode_text(part, problems)))
        else:
            attachments.append(_describe(part_id, part))
    texts = [body for kind, body in segments if kind == "text/plain"] or plain_versions
    html_body = _combined_html(segments)
    if html_body is None:  # nothing will show inline images: list them as attachments
        attachments = [replace(item, inline=False) for item in attachments]
    headers = _shown_headers(message)
    senders = parse_addresses(_header(message, "sender"), limit=1)
    return ParsedMessage(
        uid=uid,
        subject=decode_words(_header(message, "subject")),
        sender=senders[0] if senders else None,
        from_=parse_addresses(_header(message, "from"), limit=20),
        to=parse_addresses(_header(message, "to")),
        cc=parse_addresses(_header(message, "cc")),
        reply_to=parse_addresses(_header(message, "reply-to"), limit=20),
        date=parse_date(_header(message, "date") or None),
        message_id=one_line(_header(message, "message-id"), 998) or None,
        text_body="\n\n".join(texts) if texts else None,
        html_body=html_body,
        attachments=tuple(attachments),
        headers=headers,
        problems=tuple(dict.fromkeys(problems)),
    )


def get_part(raw: bytes, part_id: str) -> tuple[Attachment, bytes]:
    """The decoded bytes of one leaf part; MessageNotFound if no such part."""
    message = _parse(raw, [])
    for candidate_id, part, _ in _walk(message, []):
        if candidate_id == part_id and not part.is_multipart():
            return _describe(part_id, part), _payload(part)
    raise MessageNotFound(f"no part {part_id!r}")


def inline_images(raw: bytes,
                  max_bytes: int = MAX_INLINE_IMAGE_BYTES) -> dict[str, tuple[str, bytes]]:
    """Content-ID -> (type, bytes) for parts that really are raster images, within a budget."""
    images: dict[str, tuple[str, bytes]] = {}
    budget = max_bytes
    for _, part, shown in _walk(_parse(raw, []), []):
        content_id = part.get("content-id")
        content_type = part.get_content_type()
        if not shown or not content_id or content_type not in INLINE_IMAGE_TYPES:
            continue
        data = _payload(part)
        if len(data) > budget or not data.startswith(INLINE_IMAGE_TYPES[content_type]):
            continue  # too big for the page, or not what it claims to be
        budget -= len(data)
        images[str(content_id).strip().strip("<>").lower()] = (content_type, data)
    return images


def _parse(raw: bytes, problems: list[str]) -> email.message.Message:
    """compat32 keeps headers as raw strings: decoding stays ours, bounded and tolerant."""
    try:
        message = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception:
        problems.append("unparsable")
        message = email.message.Message()
        message.set_payload(raw.decode("utf-8", "replace"))
        message.set_type("text/plain")
        return message
    if message.defects:
        problems.append("mime-defects")
    return message


def _walk(message: email.message.Message,
          problems: list[str]) -> Iterator[tuple[str, email.message.Message, bool]]:
    """Depth-first, iterative, bounded; part ids are positions in this walk ("1", "2" …).

    The flag says whether the part is shown: false inside the versions of a
    multipart/alternative that lost to a richer one. An attached message
    (message/rfc822) is a single attachment: its parts are not walked.
    """
    stack: list[tuple[email.message.Message, int, bool]] = [(message, 0, True)]
    index = 0
    while stack:
        part, depth, shown = stack.pop()
        index += 1
        if index > MAX_PARTS:
            problems.append("too-many-parts")
            return
        yield str(index), part, shown
        if part.get_content_maintype() != "multipart" or not part.is_multipart():
            continue
        if depth >= MAX_DEPTH:
            problems.append("too-deep")
            continue
        children = part.get_payload()
        children = children if isinstance(children, list) else []
        chosen = _preferred_alternative(children) if part.get_content_subtype() == "alternative" \
            else None
        for position in range(len(children) - 1, -1, -1):
            child_shown = shown and (chosen is None or position == chosen)
            stack.append((children[position], depth + 1, child_shown))


def _preferred_alternative(children: list[email.message.Message]) -> int | None:
    """RFC 2046: the last version the reader can show best; HTML over plain text."""
    for wanted in (("text/html", "multipart/related", "multipart/mixed"), ("text/plain",)):
        for position in range(len(children) - 1, -1, -1):
            if children[position].get_content_type() in wanted:
                return position
    return len(children) - 1 if children else None


def _combined_html(segments: list[tuple[str, str]]) -> str | None:
    if not any(kind == "text/html" for kind, _ in segments):
        return None
    pieces = []
    for kind, body in segments:
        if kind == "text/html":
            pieces.append(body)
        else:
            pieces.append(f'<div style="white-space: pre-wrap">{text_to_html(body)}</div>')
    return "\n".join(pieces)


def _is_body(part: email.message.Message, content_type: str) -> bool:
    if content_type not in ("text/plain", "text/html") or part.is_multipart():
        return False
    disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
    return disposition != "attachment" and not part.get_param("name")


def _decode_text(part: email.message.Message, problems: list[str]) -> str:
    """Declared charset with replacement characters; unknown ones: UTF-8, else Windows-1252."""
    data = _payload(part)
    declared = part.get_content_charset()
    charset = _charset(declared)
    if charset is not None:
        try:
            text = data.decode(charset)
        except (UnicodeError, ValueError):
            problems.append("bad-encoding")
            text = data.decode(charset, "replace")
        return text
    if declared:
        problems.append("unknown-charset")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", "replace")


def _charset(name: str | None) -> str | None:
    """A known *text* codec (bytes→str), never a transform like base64 or zlib."""
    if not name:
        return None
    name = name.strip().strip('"').lower()
    if name in ("unknown-8bit", "x-unknown", "us-ascii"):
        return "utf-8" if name != "us-ascii" else "ascii"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _payload(part: email.message.Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        try:
            inner = part.get_payload()
            target = inner[0] if isinstance(inner, list) and inner else part
            return target.as_bytes(policy=policy.compat32)
        except Exception:
            return b""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "replace") if isinstance(payload, str) else b""
    return data


def _describe(part_id: str, part: email.message.Message) -> Attachment:
    content_type = part.get_content_type()
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        name = decode_words(str(name)[:1000])
    if not name and content_type == "message/rfc822":
        name = "message.eml"
    disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
    content_id = part.get("content-id")
    return Attachment(
        part_id=part_id,
        filename=safe_filename(name, content_type=content_type),
        content_type=one_line(content_type, 200),
        size=len(_payload(part)),
        content_id=one_line(str(content_id), 300).strip("<>") if content_id else None,
        inline=bool(content_id) and disposition != "attachment"
        and content_type in INLINE_IMAGE_TYPES,
    )


def _header(message: email.message.Message, name: str) -> str:
    """The first such header, read raw (compat32 would turn 8-bit bytes into '?')."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return _raw_8bit(str(value)[:MAX_HEADER_CHARS])
    return ""


def _raw_8bit(value: str) -> str:
    """Raw 8-bit header bytes (RFC 6532 UTF-8, or a legacy charset) arrive surrogate-escaped."""
    if value.isascii():
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", "replace")


def _shown_headers(message: email.message.Message) -> tuple[tuple[str, str], ...]:
    shown = []
    for name, value in list(message.raw_items())[:MAX_SHOWN_HEADERS]:
        text = _raw_8bit(str(value)[:MAX_HEADER_CHARS])
        shown.append((one_line(str(name), 200), decode_words(text)))
    return tuple(shown)
