"""Pidfiles, process trees and ports, read straight from /proc and the sockets.

A pidfile alone is not proof: after a crash or a reboot its pid may belong to anything,
so a daemon counts as running only if that pid is alive AND is the expected executable.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def daemon_pid(pidfile: Path, executable: str) -> int | None:
    """The pid in `pidfile` if it is a live process running `executable` (basename)."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return pid if Path(exe.removesuffix(" (deleted)")).name == executable else None


def descendants(pid: int) -> set[int]:
    """All live processes below `pid` (children, grandchildren...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may contain spaces.
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def terminate(pids: Iterable[int], timeout: float = 10.0) -> None:
    """SIGTERM the masters, wait for them and every recorded child, SIGKILL stragglers."""
    pids = list(pids)
    group = set(pids)
    for pid in pids:
        group |= descendants(pid)
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in group):
        if time.monotonic() > deadline:
            for pid in group:
                _signal(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
        time.sleep(0.02)


def _signal(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, sig)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_ports(ports: Iterable[int], *, open_: bool, timeout: float) -> list[int]:
    """Wait until every port is accepting (open_=True) or refusing connections; returns
    the ports still in the wrong state when the timeout expires (empty on success)."""
    pending = list(ports)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [port for port in pending if port_open(port) != open_]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return pending


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} not written)"
    return f"--- {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def listening_pids(port: int) -> set[int]:
    """Processes holding a socket that listens on TCP `port` (any IPv4 address)."""
    inodes = set()
    with suppress(OSError), open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and inodes:
            with suppress(OSError):
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    pids.add(int(entry.name))
    return pids


def rig_master(pid: int) -> tuple[int, Path] | None:
    """The Dovecot or Postfix master above `pid` and the devmail root it was started from
    (`-c <root>/etc/dovecot.conf`, or MAIL_CONFIG=<root>/postfix/etc), if any."""
    while pid > 1:
        proc = Path(f"/proc/{pid}")
        try:
            exe = Path(os.readlink(proc / "exe")).name
            if exe == "dovecot":
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                if b"-c" in argv:
                    return pid, Path(os.fsdecode(argv[argv.index(b"-c") + 1])).parents[1]
            if exe == "master":
                for item in (proc / "environ").read_bytes().split(b"\0"):
                    if item.startswith(b"MAIL_CONFIG="):
                        return pid, Path(os.fsdecode(item[len(b"MAIL_CONFIG="):])).parents[1]
            pid = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return None
    return None
