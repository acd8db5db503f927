"""A rough name for the device behind a User-Agent ("Firefox sur Linux"), enough for a
person to recognise their own sign-ins; no attempt at versions or exotic browsers."""

from __future__ import annotations

from flask_babel import gettext

# Order matters: Edge and Opera also say "Chrome", and Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
# Android says "Linux" too, and iPhones say "Mac OS X".
_SYSTEMS = (
    ("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"), ("Macintosh", "macOS"), ("Mac OS X", "macOS"), ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """"Firefox on Linux", in the reader's language; "Unknown device" when unsure."""
    browser = _first(_BROWSERS, user_agent or "")
    system = _first(_SYSTEMS, user_agent or "")
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return gettext("Unknown browser on %(system)s", system=system)
    return gettext("Unknown device")


def _first(table: tuple[tuple[str, str], ...], user_agent: str) -> str:
    return next((name for marker, name in table if marker in user_agent), "")
