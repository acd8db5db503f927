"""Operator commands: `flask admin …` (privacy requests and newsletter recipients
included), `flask traces verify`, `flask retention run`,
`flask stats export`. Thin: the rules live in services/."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from webmail.db import db
from webmail.services import (
    admin,
    privacy,
    privacy_requests,
    retention,
    statistics,
    trace_chain,
    traces,
)

admin_cli = AppGroup("admin", help="Administrators and mailboxes.")
traces_cli = AppGroup("traces", help="Functional traces.")
retention_cli = AppGroup("retention", help="Legal retention of traces and data.")
stats_cli = AppGroup("stats", help="Anonymous usage indicators.")


def init_app(app: Flask) -> None:
    for group in (admin_cli, traces_cli, retention_cli, stats_cli):
        app.cli.add_command(group)


@admin_cli.command("grant")
@click.argument("address")
def grant_command(address: str) -> None:
    """Make ADDRESS an administrator."""
    with _admin_errors():
        account = admin.set_admin(address, True, admin.command_line_actor())
    click.echo(f"{account.address} is an administrator")


@admin_cli.command("revoke")
@click.argument("address")
def revoke_command(address: str) -> None:
    """Remove the administrator role from ADDRESS."""
    with _admin_errors():
        account = admin.set_admin(address, False, admin.command_line_actor())
    click.echo(f"{account.address} is no longer an administrator")


@admin_cli.command("mark-deleted")
@click.argument("address")
@click.option("--at", "at", metavar="DATE", help="when it was deleted (ISO date or date-time, "
              "UTC unless a zone is given); default: now")
def mark_deleted_command(address: str, at: str | None) -> None:
    """Record that the mailbox ADDRESS was deleted on the mail server."""
    with _admin_errors():
        account = admin.mark_deleted(address, admin.command_line_actor(),
                                     parse_moment(at, "--at") if at else None)
    note = "" if account is not None else " (it never signed in: no account data)"
    click.echo(f"{address.strip().lower()} marked deleted{note}; its sessions are ended")


@admin_cli.command("restore")
@click.argument("address")
def restore_command(address: str) -> None:
    """Undo mark-deleted for ADDRESS."""
    with _admin_errors():
        admin.restore(address, admin.command_line_actor())
    click.echo(f"{address.strip().lower()} is no longer marked deleted")


@admin_cli.command("reset-second-factor")
@click.argument("address")
def reset_second_factor_command(address: str) -> None:
    """Remove ADDRESS's second factor (lost phone and recovery codes) and end its sessions."""
    with _admin_errors():
        admin.reset_second_factor(address, admin.command_line_actor())
    click.echo(f"{address.strip().lower()} has no second factor any more; its sessions "
               "are ended")


@admin_cli.command("traces")
@click.argument("address")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--before", type=int, help="only traces older than this trace id")
def traces_command(address: str, limit: int, before: int | None) -> None:
    """The functional traces of the mailbox ADDRESS, newest first."""
    with _admin_errors():
        entries = admin.read_traces(address, admin.command_line_actor(), limit, before)
    if not entries:
        click.echo("no traces")
    for entry in entries:
        moment = entry.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"{entry.id}\t{moment}\t{entry.action}\t{entry.actor}\t{entry.ip or '-'}"
                   f"\t{traces.describe(entry.detail)}")


@admin_cli.command("newsletter-recipients")
def newsletter_recipients_command() -> None:
    """Print the addresses that asked for the newsletter, one a line, for the mailer."""
    for address in privacy.newsletter_recipients():
        click.echo(address)


@admin_cli.command("requests")
@click.option("--status", default="open", show_default=True,
              type=click.Choice(["open", "all", *(s.value for s in privacy_requests.Status)]),
              help="open = pending and in progress")
def requests_command(status: str) -> None:
    """List privacy requests (erasure, restriction, objection, directives after death)."""
    rows = privacy_requests.list_requests(privacy_requests.parse_statuses(status))
    if not rows:
        click.echo("no requests")
    for row in rows:
        moment = row.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{row.id}\t{moment}\t{row.kind}\t{row.status}\t{row.address}")
        for label, text in (("details", row.details), ("response", row.response)):
            if text:
                click.echo(f"    {label}: " + text.replace("\n", "\n    "))


@admin_cli.command("request")
@click.argument("request_id", type=int)
@click.argument("status", type=click.Choice([s.value for s in privacy_requests.ADMIN_STATUSES]))
@click.option("--response", help="the answer the person reads on their privacy page "
              "(unchanged if not given; required to refuse)")
def request_command(request_id: int, status: str, response: str | None) -> None:
    """Set the STATUS of privacy request REQUEST_ID; traced in the person's mailbox."""
    with force_locale("en"):
        try:
            row = privacy_requests.handle(request_id, status, response,
                                          admin.command_line_actor())
        except privacy_requests.RequestError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"request {row.id} ({row.kind}, {row.address}) is now {row.status}")


@traces_cli.command("verify")
@click.option("--heads", is_flag=True, help="also print each chain's length and last hash, "
              "to keep outside the database")
def verify_command(heads: bool) -> None:
    """Check every hash chain; exit status 1 if a trace was edited, removed or moved."""
    report = traces.verify_chain()
    if heads:
        with db.engine.connect() as connection:
            for head in trace_chain.list_heads(connection):
                click.echo(f"head\t{head.chain}\t{head.length}\t{head.head_hash}")
    if report.ok:
        click.echo(f"ok: {report.count} traces in {report.chains} chains, all intact")
        return
    click.echo(f"BROKEN: {len(report.problems)} chains do not verify "
               f"(first broken record: {report.first_broken_id})", err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="say what would go, change nothing")
@click.option("--now", "now", metavar="ISO-DATETIME",
              help="apply the rules as of this moment instead of the clock (UTC unless a "
                   "zone is given)")
def retention_command(dry_run: bool, now: str | None) -> None:
    """Delete or anonymise what has outlived its retention period (run daily)."""
    try:
        policy = retention.RetentionPolicy.from_config(current_app.config)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    moment = parse_moment(now, "--now") if now else datetime.now(UTC)
    report = retention.run(policy, moment, dry_run)
    mode = "dry run, nothing changed" if dry_run else "applied"
    click.echo(f"retention as of {moment.isoformat(timespec='seconds')} ({mode}):")
    for line in report.lines:
        click.echo(f"  {line}")


@stats_cli.command("export")
@click.option("--since", required=True, metavar="DATE", help="first day (YYYY-MM-DD)")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              show_default=True, help="CSV file to write")
def export_command(since: str, output) -> None:
    """Write the anonymous daily indicators since DATE as CSV (day, metric, value)."""
    try:
        first = date.fromisoformat(since)
    except ValueError:
        raise click.BadParameter(f"{since!r} is not a date like 2026-01-31",
                                 param_hint="--since") from None
    statistics.write_csv(statistics.indicators_since(first), output)


def parse_moment(text: str, option: str) -> datetime:
    """An ISO date or date-time; a date means midnight UTC, no zone means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or date-time",
                                 param_hint=option) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def _admin_errors() -> Iterator[None]:
    """Turn an administrator's mistake into a one-line error and exit status 1."""
    try:
        yield
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
