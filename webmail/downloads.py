"""Attachment downloads that a browser will save, never render or sniff."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from imap_bridge.models import Attachment


def attachment_response(part: Attachment, data: bytes) -> Response:
    """Always `attachment`, RFC 6266 filename with an RFC 5987 UTF-8 form, nosniff, sandboxed."""
    ascii_name = part.filename.encode("ascii", "replace").decode().replace('"', "_")
    ascii_name = ascii_name.replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(part.filename)}"
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = disposition
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
