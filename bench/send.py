"""Sending a 5 MB attachment against its floor, measured in one run (`make bench`).

Seeds two accounts in a private Dovecot + Postfix (ports 13800 + n), then compares the
server time of the compose form's "send" (multipart upload, message build, SMTP
submission, copy in Sent) with the raw floor: smtplib submission of the same message
with STARTTLS and AUTH, plus the imapclient APPEND of that copy to Sent. Figures are
ratios, so they mean the same on a slow or a fast machine.
"""

from __future__ import annotations

import io
import os
import smtplib
import ssl
from email.message import EmailMessage

from harness import (
    PASSWORD,
    csrf_token,
    imap_settings,
    p50_interleaved,
    private_rig,
    signed_in_client,
)

from imap_bridge.connection import open_imap

SENDER, RECIPIENT = "bench-send@pli.test", "bench-receive@pli.test"
PORT_BASE = 13800
ATTACHMENT_BYTES = 5 * 1024 * 1024
ROUNDS = 7


def main() -> None:
    with private_rig(PORT_BASE) as (backend, tmp):
        run(backend, tmp)


def run(backend, tmp) -> None:
    for address in (SENDER, RECIPIENT):
        backend.add_user(address, PASSWORD)
    attachment = os.urandom(ATTACHMENT_BYTES)  # incompressible, like a scanned PDF
    client = signed_in_client(backend, tmp, SENDER)
    csrf = csrf_token(client.get(f"/b/{SENDER}/compose/new").get_data(as_text=True))
    imap = open_imap(imap_settings(backend), SENDER, PASSWORD)
    tls = ssl.create_default_context(cafile=str(backend.ca_file))

    def through_pli() -> None:
        response = client.post(f"/b/{SENDER}/compose/", content_type="multipart/form-data",
                               data={"csrf_token": csrf, "to": RECIPIENT, "subject": "Imagerie",
                                     "body": "Ci-joint l'examen.", "action": "send",
                                     "attachments": [(io.BytesIO(attachment), "irm.pdf",
                                                      "application/pdf")]})
        assert response.status_code in (200, 302, 303), response.status_code
        assert "error" not in response.headers.get("Location", ""), response.headers

    def floor() -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = SENDER, RECIPIENT, "Imagerie"
        message.set_content("Ci-joint l'examen.")
        message.add_attachment(attachment, maintype="application", subtype="pdf",
                               filename="irm.pdf")
        raw = message.as_bytes()  # built once, like Pli does, for both the send and the copy
        with smtplib.SMTP("127.0.0.1", backend.config.submission_port, timeout=60) as smtp:
            smtp.starttls(context=tls)
            smtp.login(SENDER, PASSWORD)
            smtp.sendmail(SENDER, [RECIPIENT], raw)
        imap.append("Sent", raw, flags=[b"\\Seen"])

    pli_time, floor_time = p50_interleaved(ROUNDS, through_pli, floor)
    sent = imap.folder_status("Sent", [b"MESSAGES"])[b"MESSAGES"]
    assert sent >= 2 * (ROUNDS + 1), f"only {sent} copies in Sent: a send did not happen"
    print(f"send with a {ATTACHMENT_BYTES // (1024 * 1024)} MB attachment: "
          f"Pli p50 {pli_time * 1000:.0f} ms")
    print(f"  raw smtplib submission + imapclient APPEND to Sent: p50 "
          f"{floor_time * 1000:.0f} ms, ratio {pli_time / floor_time:.2f}")


if __name__ == "__main__":
    main()
