"""The compose forms (Flask-WTF) and how compose requests are read.

Uploads are parsed in memory only, so an attachment never touches the web server's disk
(it goes straight into the IMAP draft). A request over the size limit is still read,
without keeping the files, to recover the typed text: a file too big never costs the
person what they wrote.
"""

from __future__ import annotations

import io
from typing import IO

from flask import abort, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from imap_bridge.filenames import safe_filename
from webmail.services.compose import MODES, ComposeState, NewFile, Source

MAX_FIELD = 200_000  # a To field with a few hundred addresses still fits
MAX_TEXT = 2_000_000
MAX_ID = 10  # digits of an IMAP UID (32 bits)
SALVAGE_FIELD_BYTES = 4 * 1024 * 1024


class ComposeForm(FlaskForm):
    to = StringField(validators=[Length(max=MAX_FIELD)])
    cc = StringField(validators=[Length(max=MAX_FIELD)])
    bcc = StringField(validators=[Length(max=MAX_FIELD)])
    subject = StringField(validators=[Length(max=MAX_FIELD)])
    body = TextAreaField(validators=[Length(max=MAX_TEXT)])
    rich = BooleanField()
    read_receipt = BooleanField()
    delivery_receipt = BooleanField()
    patient_link = BooleanField()
    draft_uid = HiddenField()
    source_mode = HiddenField()
    source_folder = HiddenField()
    source_uid = HiddenField()

    @classmethod
    def from_state(cls, state: ComposeState) -> ComposeForm:
        form = cls(formdata=None)
        for name in ("to", "cc", "bcc", "subject", "body", "rich", "read_receipt",
                     "delivery_receipt", "patient_link"):
            getattr(form, name).data = getattr(state, name)
        form.draft_uid.data = "" if state.draft_uid is None else str(state.draft_uid)
        if state.source is not None:
            form.source_mode.data = state.source.mode
            form.source_folder.data = state.source.folder
            form.source_uid.data = str(state.source.uid)
        return form

    def to_state(self) -> ComposeState:
        """The typed values; identifiers that are not what the page put there give 404."""
        state = ComposeState(
            to=self.to.data or "", cc=self.cc.data or "", bcc=self.bcc.data or "",
            subject=self.subject.data or "", body=self.body.data or "",
            rich=bool(self.rich.data), read_receipt=bool(self.read_receipt.data),
            delivery_receipt=bool(self.delivery_receipt.data),
            patient_link=bool(self.patient_link.data),
            draft_uid=parse_uid(self.draft_uid.data, optional=True),
        )
        if self.source_mode.data:
            if self.source_mode.data not in MODES or not self.source_folder.data \
                    or len(self.source_folder.data) > 1000:
                abort(404)
            state.source = Source(self.source_mode.data, self.source_folder.data,
                                  parse_uid(self.source_uid.data))
        return state


class SignatureForm(FlaskForm):
    text = TextAreaField(validators=[Length(max=2000)])


def parse_uid(value: str | None, optional: bool = False) -> int | None:
    """One IMAP UID: digits only (never a sequence set such as 1:*), else 404."""
    value = (value or "").strip()
    if not value and optional:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_ID \
            or not 0 < int(value) < 2**32:
        abort(404)
    return int(value)


def uploaded_files() -> list[NewFile]:
    """The files of the request, named safely; the browser's Content-Type is ignored."""
    files = []
    for storage in request.files.getlist("attachments"):
        data = storage.read()
        if not storage.filename and not data:
            continue  # the empty part a browser sends for "no file chosen"
        files.append(NewFile(safe_filename(storage.filename), data))
    return files


class InMemoryFormDataParser(FormDataParser):
    """Werkzeug spools uploads over 500 KB to temporary files; compose keeps them in
    memory (bounded by MAX_CONTENT_LENGTH) on their way to the IMAP draft."""

    def __init__(self, stream_factory=None, *args, **kwargs) -> None:
        super().__init__(_memory_stream, *args, **kwargs)


def salvage_form(limit: int) -> tuple[MultiDict, list[tuple[str, int]]]:
    """Read a multipart body that was too large: keep its text fields, count the files.

    Returns the fields and (file name, size) of each file. Reading stops at `limit` bytes
    or at the end; nothing of the files is kept.
    """
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1")
    length = request.content_length
    if request.mimetype != "multipart/form-data" or not boundary or length is None:
        return MultiDict(), []
    decoder = MultipartDecoder(boundary, max_form_memory_size=SALVAGE_FIELD_BYTES)
    stream = request.environ["wsgi.input"]
    remaining = min(length, limit)
    fields: MultiDict = MultiDict()
    files: list[tuple[str, int]] = []
    current: str | None = None
    chunks: list[bytes] = []
    while True:
        chunk = stream.read(min(65536, remaining)) if remaining > 0 else b""
        remaining -= len(chunk)
        decoder.receive_data(chunk or None)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, Field):
                current, chunks = event.name, []
            elif isinstance(event, File):
                current = None
                files.append((safe_filename(event.filename), 0))
            elif isinstance(event, Data):
                if current is not None:
                    chunks.append(event.data)
                    if not event.more_data:
                        fields.add(current, b"".join(chunks).decode("utf-8", "replace"))
                elif files:
                    files[-1] = (files[-1][0], files[-1][1] + len(event.data))
            event = decoder.next_event()
        if isinstance(event, Epilogue) or not chunk:
            return fields, files


def _memory_stream(total_content_length: int | None, content_type: str | None,
                   filename: str | None = None, content_length: int | None = None
                   ) -> IO[bytes]:
    return io.BytesIO()
