"""Postfix pipe target for mail to any domain other than the rig's own.

Runs as `python -I capture.py CAPTURE_DIR SENDER RECIPIENT` (stdlib only, no package
import, so it works under the pipe daemon's bare environment). Each delivery becomes
`<stamp>.eml` plus `<stamp>.json` ({"sender", "recipient"}); the JSON is written last, so
its presence means the message is complete. Tests read them to see exactly which
envelope recipients a sent message produced, and nothing ever leaves the machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

EX_USAGE = 64
EX_TEMPFAIL = 75


def write_capture(directory: Path, sender: str, recipient: str, raw: bytes) -> Path:
    """Store one delivery atomically and return the path of its `.eml` file."""
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    eml = directory / f"{stamp}.eml"
    meta = directory / f"{stamp}.json"
    _atomic_write(eml, raw)
    _atomic_write(meta, json.dumps({"sender": sender, "recipient": recipient}).encode())
    return eml


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: capture.py CAPTURE_DIR SENDER RECIPIENT", file=sys.stderr)
        return EX_USAGE
    try:
        write_capture(Path(argv[1]), argv[2], argv[3], sys.stdin.buffer.read())
    except OSError as error:
        print(f"capture failed: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
