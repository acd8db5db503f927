"""Typed values that cross the bridge: nothing above `imap_bridge` sees raw IMAP tuples."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class SpecialUse(enum.StrEnum):
    """RFC 6154 special-use attributes the UI names and orders."""

    INBOX = "inbox"
    DRAFTS = "drafts"
    SENT = "sent"
    ARCHIVE = "archive"
    JUNK = "junk"
    TRASH = "trash"
    ALL = "all"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class Address:
    """One mailbox from an address header: display name (decoded) and the real address."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def international_domain(self) -> bool:
        """An IDN domain (shown as xn--): worth a warning, it may imitate a known one."""
        return "xn--" in self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Folder:
    """A folder as listed by the server, with its counts when asked for."""

    name: str  # the server's name, as used in IMAP commands (modified UTF-7 already decoded)
    delimiter: str
    special_use: SpecialUse | None = None
    selectable: bool = True
    unread: int = 0
    total: int = 0

    @property
    def depth(self) -> int:
        return self.name.count(self.delimiter) if self.delimiter else 0

    @property
    def leaf_name(self) -> str:
        return self.name.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.name


@dataclass(frozen=True)
class MessageSummary:
    """One row of a message list: only what the list shows, fetched for the visible page."""

    uid: int
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    date: datetime | None  # timezone-aware
    size: int
    seen: bool
    flagged: bool
    answered: bool
    has_attachments: bool


@dataclass(frozen=True)
class MessagePage:
    """A page of a folder listing, newest first."""

    folder: str
    messages: tuple[MessageSummary, ...]
    page: int
    page_size: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Attachment:
    """A part offered for download. `part_id` is our stable index of the part in the walk."""

    part_id: str
    filename: str  # already made safe: no path, no control or bidi characters
    content_type: str
    size: int
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    """A message ready to show: decoded headers, the chosen bodies, and its attachments."""

    uid: int
    subject: str
    sender: Address | None
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    message_id: str | None
    text_body: str | None  # decoded text/plain, if any
    html_body: str | None  # decoded, NOT sanitised text/html, if any
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=())  # decoded, for "show headers"
    problems: tuple[str, ...] = ()  # what could not be decoded, shown as a notice
