"""Steps the compose tests share: a second real account, the compose form, mailbox reads."""

from __future__ import annotations

import email
import itertools
import os
import re
import time
from email import policy

from tests.conftest import PASSWORD, MailUser, csrf_token

_counter = itertools.count(1)


def another_user(mail_backend, role: str = "peer") -> MailUser:
    user = MailUser(f"{role}{os.getpid()}x{next(_counter)}@pli.test", PASSWORD)
    mail_backend.add_user(user.address, user.password)
    return user


def compose_url(user: MailUser, path: str = "/") -> str:
    return f"/b/{user.address}/compose{path}"


def form_token(client, user: MailUser) -> str:
    return csrf_token(client.get(compose_url(user, "/new")).get_data(as_text=True))


def post_compose(client, user: MailUser, files=(), headers=None, **fields):
    """Submit the compose form as a browser would (multipart, like the real form)."""
    data = {"csrf_token": form_token(client, user), "to": "", "cc": "", "bcc": "",
            "subject": "", "body": "", "action": "save"}
    data.update({key: value for key, value in fields.items() if value is not None})
    if files:
        data["attachments"] = list(files)
    return client.post(compose_url(user), data=data, content_type="multipart/form-data",
                       headers=headers or {})


def folder_messages(mail_backend, user: MailUser, folder: str) -> list[tuple[int, bytes, tuple]]:
    """(uid, raw, flags) of every message in a folder, oldest first."""
    with mail_backend.imap(user.address, user.password) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        if not uids:
            return []
        fetched = client.fetch(uids, [b"BODY.PEEK[]", b"FLAGS"])
    return [(uid, fetched[uid][b"BODY[]"], fetched[uid][b"FLAGS"]) for uid in sorted(fetched)]


def wait_for_messages(mail_backend, user: MailUser, folder: str, count: int = 1,
                      timeout: float = 15.0) -> list[tuple[int, bytes, tuple]]:
    """Delivery through Postfix is asynchronous: poll until `count` messages are there."""
    deadline = time.monotonic() + timeout
    while True:
        found = folder_messages(mail_backend, user, folder)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def attachments_of(raw: bytes) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content()
            for part in parse(raw).iter_attachments()}


def draft_uid_of(response) -> int:
    found = re.search(r'name="draft_uid" value="(\d+)"', response.get_data(as_text=True))
    assert found, "no draft in the page"
    return int(found.group(1))


def text_of(raw: bytes, kind: str = "plain") -> str:
    """A body part's text with LF line ends (quoted-printable keeps the CRLF of the wire)."""
    return parse(raw).get_body((kind,)).get_content().replace("\r\n", "\n")


def raw_multipart(fields: dict[str, str], files: list[tuple[str, bytes, str]]
                  ) -> tuple[bytes, str]:
    """A multipart body written by hand, for part headers no browser library would send
    (a Content-Type with CR/LF in it). files: (filename, data, raw content type)."""
    boundary = "----pli-test-boundary-7d1f"
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      .encode() + value.encode() + b"\r\n")
    for filename, data, content_type in files:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
                      f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                      + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
