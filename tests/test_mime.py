"""Parsing raw messages: bodies, attachments, headers; never an exception."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from imap_bridge.errors import MessageNotFound
from imap_bridge.filenames import safe_filename
from imap_bridge.mime import get_part, inline_images, parse_message
from imap_bridge.text import text_to_html
from tests.conftest import CORPUS
from tests.mailfactory import message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CORPUS_FILES = sorted(Path(CORPUS).glob("*.eml"))


def test_alternative_prefers_html_and_keeps_text() -> None:
    parsed = parse_message(7, message(body="plain version\n", html="<p>rich version</p>"))
    assert parsed.uid == 7
    assert "rich version" in parsed.html_body and "plain version" not in parsed.html_body
    assert parsed.text_body.strip() == "plain version"


def test_attachments_are_listed_and_fetched_byte_for_byte() -> None:
    data = bytes(range(256)) * 10
    raw = message(attachments=[("../../etc/compte rendu\u202eFDP.pdf", "application/pdf", data)])
    parsed = parse_message(1, raw)
    (attachment,) = parsed.attachments
    assert attachment.filename == "compte rendu FDP.pdf"  # the override became a space
    assert attachment.size == len(data)
    part, content = get_part(raw, attachment.part_id)
    assert content == data and part.content_type == "application/pdf"


def test_unknown_part_is_not_found() -> None:
    with pytest.raises(MessageNotFound):
        get_part(message(), "99")


def test_inline_images_only_real_rasters() -> None:
    msg = EmailMessage()
    msg["Subject"] = "logo"
    msg.set_content("text")
    msg.add_alternative('<img src="cid:logo@x"><img src="cid:svg@x"><img src="cid:fake@x">',
                        subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG, "image", "png", cid="<logo@x>")
    html_part.add_related(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image", "svg+xml",
                          cid="<svg@x>")
    html_part.add_related(b"<html><script>x</script>", "image", "png", cid="<fake@x>")
    images = inline_images(msg.as_bytes())
    assert set(images) == {"logo@x"}
    assert images["logo@x"] == ("image/png", PNG)
    parsed = parse_message(1, msg.as_bytes())
    assert [a.inline for a in parsed.attachments] == [True, False, True]


def test_encoded_words_and_unknown_charsets_degrade() -> None:
    raw = (b"Subject: =?utf-8?q?R=C3=A9sultat?= =?x-unknown?q?caf=E9?=\r\n"
           b"From: =?iso-8859-1?q?Ren=E9?= <rene@pli.test>\r\n"
           b"Content-Type: text/plain; charset=x-bogus\r\n\r\ncaf\xc3\xa9\r\n")
    parsed = parse_message(1, raw)
    assert parsed.subject.startswith("Résultat")
    assert parsed.from_[0].name == "René"
    assert parsed.text_body.strip() == "café"
    assert "unknown-charset" in parsed.problems


def test_transform_codecs_are_not_charsets() -> None:
    raw = b"Content-Type: text/plain; charset=base64\r\n\r\naGVsbG8=\r\n"
    assert parse_message(1, raw).text_body.strip() == "aGVsbG8="


def test_idn_domains_are_shown_as_punycode() -> None:
    raw = "From: Dr Martin <dr.martin@c\u0430binet.test>\r\n\r\nx".encode()
    (sender,) = parse_message(1, raw).from_
    assert sender.email == "dr.martin@xn--cbinet-3nf.test" and sender.international_domain


def test_subject_cannot_fake_a_new_line_or_reorder_text() -> None:
    raw = b"Subject: =?utf-8?b?" + __import__("base64").b64encode(
        "a\r\nBcc: x\u202eb".encode()) + b"?=\r\n\r\n"
    assert parse_message(1, raw).subject == "a Bcc: x b"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name.split("_")[0])
def test_every_corpus_message_parses_and_shows_its_marker(path: Path) -> None:
    raw = path.read_bytes()
    parsed = parse_message(1, raw)
    case = path.name.split("_")[0]
    body = parsed.html_body or parsed.text_body or ""
    assert f"Corpus {case}" in body
    for attachment in parsed.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E for c in attachment.filename)
        get_part(raw, attachment.part_id)


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Windows\\evil.exe", "evil.exe"),
    ("rapport\x00.pdf\r\n", "rapport.pdf"),
    ("facture\u202efdp.exe", "facturefdp.exe"),
    ("<img src=x>.pdf", "img src=x.pdf"),
    ("CON.txt", "_CON.txt"),
    ("...", "attachment.pdf"),
    ("résumé médical.pdf", "résumé médical.pdf"),
])
def test_safe_filenames(name: str, expected: str) -> None:
    assert safe_filename(name, content_type="application/pdf") == expected


def test_long_filename_keeps_its_extension() -> None:
    name = safe_filename("a" * 400 + ".pdf")
    assert len(name) == 150 and name.endswith(".pdf")


def test_text_links_are_only_web_and_mail() -> None:
    html = text_to_html('see https://ex.org/a?b=1&c="x" and javascript:alert(1), '
                        "www.pli.test. <b> mail: dr@pli.test")
    assert '<a href="https://ex.org/a?b=1&amp;c=" target="_blank"' in html
    assert '<a href="https://www.pli.test"' in html
    assert '<a href="mailto:dr@pli.test"' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert "&lt;b&gt;" in html


@pytest.mark.parametrize("header", [
    "Dr Anne Leroy <anne.leroy@pli.test>", "anne@pli.test", "Dr. Martin <m@pli.test>",
    "=?utf-8?q?Ren=C3=A9?= <rene@pli.test>", '"Leroy, Anne" <anne@pli.test>',
    "a@pli.test, b@pli.test", "Anne (cabinet) <anne@pli.test>", "<anne@pli.test>",
    "undisclosed-recipients:;", "Anne <anne@pli.test> (comment)",
])
def test_address_fast_path_agrees_with_the_full_parser(header: str) -> None:
    import email.utils

    from imap_bridge.headers import decode_words, parse_addresses

    expected = tuple((decode_words(name), addr)
                     for name, addr in email.utils.getaddresses([header]) if addr or name)
    assert tuple((a.name, a.email) for a in parse_addresses(header)) == expected
