"""Opening authenticated IMAP connections with the security the operator asked for."""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from imap_bridge.errors import AuthenticationFailed, MailServerUnavailable

SECURITY_MODES = ("starttls", "tls", "plain")

# What a dropped or broken connection looks like from imapclient and the socket layer.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes socket.timeout, ConnectionError and ssl.SSLError
    IMAPClientAbortError,  # the server said BYE or the stream broke
    EOFError,
)


@dataclass(frozen=True)
class ServerSettings:
    """Where a mail server is and how to talk to it safely."""

    host: str
    port: int
    security: str = "starttls"
    ca_file: str | None = None
    timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {self.security!r}")


def tls_context(settings: ServerSettings) -> ssl.SSLContext:
    """Verify the server certificate (against a private CA when one is given); TLS 1.2 at least."""
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def open_imap(settings: ServerSettings, username: str, password: str) -> IMAPClient:
    """Connect, secure and log in; map failures to the bridge's two meaningful errors."""
    client = _connect(settings)
    try:
        client.login(username, password)
    except LoginError as error:
        close_quietly(client)
        raise AuthenticationFailed(str(error)) from None
    except (OSError, IMAPClientError) as error:
        close_quietly(client)
        raise MailServerUnavailable(f"IMAP login failed: {error}") from error
    return client


def _connect(settings: ServerSettings) -> IMAPClient:
    context = tls_context(settings)
    try:
        client = IMAPClient(
            settings.host,
            port=settings.port,
            ssl=settings.security == "tls",
            ssl_context=context,
            timeout=settings.timeout,
        )
        if settings.security == "starttls":
            client.starttls(context)
    except (OSError, IMAPClientError) as error:
        raise MailServerUnavailable(
            f"cannot reach IMAP server {settings.host}:{settings.port}: {error}"
        ) from error
    return client


def close_quietly(client: IMAPClient) -> None:
    """Log out politely if the connection still works, otherwise just drop the socket."""
    try:
        client.logout()
    except Exception:  # the connection is being thrown away either way
        with contextlib.suppress(Exception):
            client.shutdown()
