"""The few failures the web layer needs to tell apart; everything else is a bug."""


class MailError(Exception):
    """Base class for every error raised by the bridge."""


class AuthenticationFailed(MailError):
    """The server refused the credentials (wrong password, disabled account)."""


class MailServerUnavailable(MailError):
    """The server could not be reached or dropped the connection and a retry failed."""


class FolderNotFound(MailError):
    """The folder does not exist or is not visible to this login."""


class MessageNotFound(MailError):
    """The message is not in the folder (never was, or was expunged meanwhile)."""
