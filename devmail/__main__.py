"""Command line for the development mail backend (run as root, after
`bash scripts/install-system.sh`).

Configuration comes from the environment, defaults in brackets: PLI_DEV_ROOT
[<repo>/var/devmail], PLI_DEV_IMAP_PORT [10143], PLI_DEV_IMAPS_PORT [IMAP port + 1],
PLI_DEV_LMTP_PORT [10024], PLI_DEV_SMTP_PORT [10025], PLI_DEV_SUBMISSION_PORT [10587],
PLI_DEV_DOMAIN [pli.test], PLI_DEV_MASTER_USER [pli-master], PLI_DEV_MASTER_PASSWORD.

Demo accounts created by `seed-demo`, all with the password demo-Pli-2026:
dr.martin@pli.test, secretariat.martin@pli.test, dr.durand@pli.test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from devmail.backend import BackendConfig, BackendError, MailBackend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devmail", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start Dovecot and Postfix (no-op when running)")
    commands.add_parser("stop", help="stop them (no-op when stopped)")
    commands.add_parser("status", help="pids, ports and CA file, as JSON; exit 1 if down")
    commands.add_parser("seed-demo", help="start if needed, create the demo accounts and "
                        "fill dr.martin's mailbox once")
    add_user = commands.add_parser("add-user", help="create a mailbox or change its password")
    add_user.add_argument("address")
    add_user.add_argument("password")
    add_user.add_argument("display_name", nargs="?", default="")
    sender_logins = commands.add_parser(
        "load-sender-logins", help="load a sender-login map written by Pli "
        "(PLI_SENDER_LOGIN_MAP) into Postfix; Pli runs it after each change")
    sender_logins.add_argument("file")
    args = parser.parse_args(argv)

    backend = MailBackend(BackendConfig.from_env())
    try:
        return _run(backend, args)
    except (BackendError, ValueError) as error:
        print(f"devmail: {error}", file=sys.stderr)
        return 1


def _run(backend: MailBackend, args: argparse.Namespace) -> int:
    config = backend.config
    if args.command == "start":
        began = time.monotonic()
        backend.start()
        print(f"devmail running under {config.root} ({time.monotonic() - began:.1f} s)")
        print(f"  IMAP STARTTLS 127.0.0.1:{config.imap_port}   IMAPS 127.0.0.1:"
              f"{config.imaps_port}")
        print(f"  submission STARTTLS 127.0.0.1:{config.submission_port}   "
              f"SMTP (no auth, tests) 127.0.0.1:{config.smtp_port}   "
              f"LMTP 127.0.0.1:{config.lmtp_port}")
        print(f"  CA file {backend.ca_file}")
        print(f"  master user {config.master_user} (log in as ADDRESS*{config.master_user})")
        print(f"  outside mail captured in {backend.capture_dir}")
    elif args.command == "stop":
        backend.stop()
        print("devmail stopped")
    elif args.command == "status":
        print(json.dumps(backend.status(), indent=2))
        return 0 if backend.is_running() else 1
    elif args.command == "seed-demo":
        from devmail.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

        backend.start()
        added = seed_demo(backend)
        print(f"demo mailbox: {added} messages added" if added
              else "demo mailbox already seeded")
        for address, name in DEMO_ACCOUNTS:
            print(f"  {address} / {DEMO_PASSWORD}  ({name})")
    elif args.command == "load-sender-logins":
        from pathlib import Path

        backend.load_sender_logins(Path(args.file))
    elif args.command == "add-user":
        backend.add_user(args.address, args.password, args.display_name)
        print(f"mailbox {args.address.lower()} ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
