"""HTML bodies made safe to show: an allow-list, not a block-list.

The pipeline parses once, the way a browser does (html5lib), then:
1. drops whole subtrees that must never render *nor leave their text behind*
   (script, style, svg, math, noscript, template, iframe, object, form controls …),
   keeping the text of `<style>` aside to be rebuilt rule by rule;
2. lets bleach's filter keep only allowed elements and attributes, with its CSS
   sanitiser on `style` attributes wrapped by our own value checks (no `url()` unless
   remote content was allowed, no expressions, no positioning);
3. rewrites links (absolute http/https/mailto/tel only, new tab, no referrer) and
   images (`cid:` to inline data of safe raster images; remote only when allowed);
4. serialises with every attribute quoted and every text node escaped.

Because no raw-text or foreign-content element survives, what the browser parses
from the output is the tree we checked (no mutation XSS). The result is shown in a
sandboxed frame with its own strict CSP: this module is the first wall, not the only one.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import tinycss2
from bleach._vendor.html5lib import HTMLParser, getTreeWalker
from bleach._vendor.html5lib.filters.base import Filter
from bleach._vendor.html5lib.serializer import HTMLSerializer
from bleach.css_sanitizer import CSSSanitizer
from bleach.sanitizer import BleachSanitizerFilter

MAX_HTML_CHARS = 1_000_000  # beyond this the body is cut (the full message stays downloadable)
MAX_DEPTH = 200  # deeper nesting is flattened before parsing: html5lib is quadratic in depth
MAX_CSS_CHARS = 200_000


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


ALLOWED_TAGS = _names("""
    a abbr acronym address article aside b bdi bdo big blockquote br caption center cite
    code col colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3
    h4 h5 h6 header hr i img ins kbd li main mark nav ol p pre q rp rt ruby s samp section
    small span strike strong sub summary sup table tbody td tfoot th thead time tr tt u ul
    var wbr
""")

# Dropped with everything inside: their content is code, a document, or would be
# shown out of context (a <title> repeated in the body, a form's fake controls).
DROPPED_WITH_CONTENT = _names("""
    script style svg math noscript noembed noframes template iframe frame frameset object
    embed applet audio video canvas map area title meta link base select textarea
    button input option optgroup datalist output progress meter xmp plaintext dialog
    portal slot param source track picture
""")

_COMMON = ("title", "lang", "dir", "style", "class", "align")
_CELL = (*_COMMON, "colspan", "rowspan", "valign", "width", "height", "bgcolor", "nowrap",
         "abbr", "scope")
ALLOWED_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "*": _COMMON,
    "a": (*_COMMON, "href"),
    "img": (*_COMMON, "src", "alt", "width", "height", "border", "hspace", "vspace"),
    "table": (*_COMMON, "border", "cellpadding", "cellspacing", "width", "bgcolor", "summary"),
    "td": _CELL,
    "th": _CELL,
    "tr": (*_COMMON, "valign", "bgcolor", "height"),
    "col": (*_COMMON, "span", "width"),
    "colgroup": (*_COMMON, "span", "width"),
    "font": (*_COMMON, "color", "face", "size"),
    "ol": (*_COMMON, "start", "type", "reversed"),
    "ul": (*_COMMON, "type"),
    "li": (*_COMMON, "value", "type"),
    "blockquote": (*_COMMON, "cite"),
    "hr": (*_COMMON, "width", "size", "noshade", "color"),
    "time": (*_COMMON, "datetime"),
    "details": (*_COMMON, "open"),
}
# bleach checks these schemes on href/src; `cid` passes so that step 3 can resolve it.
_PROTOCOLS = frozenset({"http", "https", "mailto", "tel", "cid", "data"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

ALLOWED_CSS_PROPERTIES = _names("""
    background background-color background-image background-position background-repeat
    background-size border border-bottom border-bottom-color border-bottom-style
    border-bottom-width border-collapse border-color border-left border-left-color
    border-left-style border-left-width border-radius border-right border-right-color
    border-right-style border-right-width border-spacing border-style border-top
    border-top-color border-top-style border-top-width border-width caption-side clear color
    direction display empty-cells float font font-family font-size font-style font-variant
    font-weight height letter-spacing line-height list-style list-style-position
    list-style-type margin margin-bottom margin-left margin-right margin-top max-height
    max-width min-height min-width overflow overflow-wrap padding padding-bottom padding-left
    padding-right padding-top table-layout text-align text-decoration text-indent
    text-transform unicode-bidi vertical-align white-space width word-break word-spacing
    word-wrap
""")
_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc", "min", "max", "clamp"})
_SAFE_DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp|bmp);base64,[a-z0-9+/=\s]*$",
                              re.IGNORECASE)
_OPEN_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_VOID = _names("area base br col embed hr img input link meta param source track wbr")


@dataclass(frozen=True)
class SanitizedHtml:
    """Safe body markup plus the rebuilt stylesheet, and whether anything remote was held back."""

    html: str
    css: str = ""
    remote_blocked: bool = False
    truncated: bool = False


def sanitize_html(html: str, *, allow_remote: bool = False,
                  cid_images: Mapping[str, tuple[str, bytes]] | None = None) -> SanitizedHtml:
    """Return markup safe to place in the message frame (never raises on hostile input)."""
    truncated = len(html) > MAX_HTML_CHARS
    html = _flatten_deep_nesting(html[:MAX_HTML_CHARS])
    report = _Report()
    document = HTMLParser(namespaceHTMLElements=False).parse(html)
    stylesheets = _prune(document)
    css_sanitizer = _CssSanitizer(allow_remote, report)
    walker = getTreeWalker("etree")
    stream = BleachSanitizerFilter(
        source=walker(_body_of(document)),
        allowed_tags=ALLOWED_TAGS | {"body"},
        attributes=dict(ALLOWED_ATTRIBUTES),
        strip_disallowed_tags=True,
        strip_html_comments=True,
        css_sanitizer=css_sanitizer,
        allowed_protocols=_PROTOCOLS,
    )
    stream = _LinksAndImages(stream, allow_remote, cid_images or {}, report)
    stream = _WithoutBody(stream)
    serializer = HTMLSerializer(quote_attr_values="always", omit_optional_tags=False,
                                escape_lt_in_attrs=True, escape_rcdata=True,
                                resolve_entities=False, alphabetical_attributes=False)
    body = serializer.render(stream)
    css = _sanitize_stylesheet("\n".join(stylesheets), css_sanitizer)
    return SanitizedHtml(body, css, report.remote_blocked, truncated)


class _Report:
    remote_blocked = False


def _flatten_deep_nesting(html: str) -> str:
    """Drop opening tags past MAX_DEPTH (and their closing tags) in one linear pass.

    Approximate on purpose: the result is parsed and sanitised like any other input,
    so a miscount can only change the layout, never let anything through.
    """
    if html.count("<") < MAX_DEPTH:
        return html
    depth = 0
    suppressed: dict[str, int] = {}
    out: list[str] = []
    position = 0
    for match in _OPEN_TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID or match.group().endswith("/>"):
            continue
        drop = False
        if closing:
            if suppressed.get(name):
                suppressed[name] -= 1
                drop = True
            else:
                depth = max(0, depth - 1)
        elif depth >= MAX_DEPTH:
            suppressed[name] = suppressed.get(name, 0) + 1
            drop = True
        else:
            depth += 1
        if drop:
            out.append(html[position:match.start()])
            position = match.end()
    out.append(html[position:])
    return "".join(out)


def _prune(document) -> list[str]:
    """Remove DROPPED_WITH_CONTENT subtrees in place; return the text of the <style> ones."""
    stylesheets: list[str] = []
    stack = [document]
    while stack:  # iterative: no recursion limit whatever the depth
        parent = stack.pop()
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            name = tag.rsplit("}", 1)[-1].lower()
            if name in DROPPED_WITH_CONTENT or not tag:
                if name == "style" and "}" not in tag:
                    stylesheets.append("".join(child.itertext()))
                _remove_keeping_tail(parent, child)
            else:
                stack.append(child)
        # Text reaches bleach's filter as decoded characters, where it would read "&lt;"
        # as an entity again: keep every "&" literal.
        if isinstance(parent.tag, str):
            if parent.text:
                parent.text = parent.text.replace("&", "&amp;")
            for child in parent:
                if child.tail:
                    child.tail = child.tail.replace("&", "&amp;")
    return stylesheets


def _remove_keeping_tail(parent, child) -> None:
    """ElementTree keeps the text after an element in its `tail`: move it before removing."""
    if child.tail:
        index = list(parent).index(child)
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


def _body_of(document):
    return next(document.iter("body"), None) or next(document.iter("html"), document)


class _WithoutBody(Filter):
    """The walk starts at <body> so that its attributes (bgcolor …) are never re-read."""

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            if token.get("name") == "body" and token["type"] in ("StartTag", "EndTag"):
                continue
            yield token


class _LinksAndImages(Filter):
    """Links open a new tab without referrer; images are inline data or allowed remote."""

    def __init__(self, source, allow_remote: bool, cid_images: Mapping[str, tuple[str, bytes]],
                 report: _Report) -> None:
        super().__init__(source)
        self.allow_remote = allow_remote
        self.cid_images = {_normal_cid(key): value for key, value in cid_images.items()}
        self.report = report

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag"):
                if token["name"] == "a":
                    self._link(token)
                elif token["name"] == "img":
                    self._image(token)
            yield token

    def _link(self, token: dict) -> None:
        attributes = token["data"]
        href = attributes.pop((None, "href"), None)
        if href is not None and _scheme(href) in _LINK_SCHEMES:
            attributes[(None, "href")] = href.strip()
            attributes[(None, "target")] = "_blank"
            attributes[(None, "rel")] = "noopener noreferrer nofollow"

    def _image(self, token: dict) -> None:
        attributes = token["data"]
        src = (attributes.pop((None, "src"), None) or "").strip()
        scheme = _scheme(src)
        if scheme == "cid":
            found = self.cid_images.get(_normal_cid(src[4:]))
            if found:
                attributes[(None, "src")] = _data_uri(*found)
        elif scheme in ("http", "https"):
            if self.allow_remote:
                attributes[(None, "src")] = src
            else:
                self.report.remote_blocked = True
        elif scheme == "data" and _SAFE_DATA_IMAGE.match(src):
            attributes[(None, "src")] = src


def _scheme(url: str) -> str:
    """The scheme of an absolute URL, lower-cased; '' for relative or unparsable URLs."""
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", url)
    try:
        return urlsplit(cleaned).scheme.lower()
    except ValueError:
        return ""


def _normal_cid(value: str) -> str:
    return unquote(value).strip().strip("<>").lower()


def _data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


class _CssSanitizer(CSSSanitizer):
    """bleach's CSS sanitiser with our property list and a check of every value."""

    def __init__(self, allow_remote: bool, report: _Report) -> None:
        super().__init__(allowed_css_properties=ALLOWED_CSS_PROPERTIES,
                         allowed_svg_properties=frozenset())
        self.allow_remote = allow_remote
        self.report = report

    def sanitize_css(self, style: str) -> str:
        declarations = tinycss2.parse_declaration_list(style, skip_comments=True,
                                                      skip_whitespace=True)
        return self.declarations(declarations)

    def declarations(self, declarations: list) -> str:
        kept = []
        for declaration in declarations:
            if declaration.type != "declaration":
                continue
            if declaration.lower_name not in ALLOWED_CSS_PROPERTIES:
                continue
            if not self._value_is_safe(declaration.value):
                continue
            value = tinycss2.serialize(declaration.value).strip()
            important = " !important" if declaration.important else ""
            kept.append(f"{declaration.lower_name}: {value}{important}")
        return "; ".join(kept)

    def _value_is_safe(self, tokens: list) -> bool:
        stack = list(tokens)
        while stack:
            token = stack.pop()
            if token.type == "url":
                if not self._url_is_allowed(token.value):
                    return False
            elif token.type == "function":
                name = token.lower_name
                if name == "url":
                    strings = [t.value for t in token.arguments if t.type == "string"]
                    if len(strings) != 1 or not self._url_is_allowed(strings[0]):
                        return False
                elif name not in _CSS_FUNCTIONS:
                    return False
                stack.extend(token.arguments)
            elif token.type in ("() block", "[] block", "{} block"):
                stack.extend(token.content)
            elif token.type in ("error", "at-keyword") or (
                    token.type == "ident" and token.lower_value.startswith("expression")):
                return False
        return True

    def _url_is_allowed(self, url: str) -> bool:
        if _SAFE_DATA_IMAGE.match(url.strip()):
            return True
        if _scheme(url) in ("http", "https"):
            if self.allow_remote:
                return True
            self.report.remote_blocked = True
        return False


def _sanitize_stylesheet(text: str, declarations: _CssSanitizer) -> str:
    """Rebuild a stylesheet from plain rules (and @media around them); drop every other at-rule.

    Selectors are kept: the frame holds only the message, so they cannot reach the app.
    """
    if not text.strip():
        return ""
    rules = tinycss2.parse_stylesheet(text[:MAX_CSS_CHARS], skip_comments=True,
                                      skip_whitespace=True)
    out: list[str] = []
    pending = [(rules, out)]
    while pending:
        rule_list, into = pending.pop()
        for rule in rule_list:
            if rule.type == "qualified-rule":
                body = declarations.declarations(
                    tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                    skip_whitespace=True))
                selector = tinycss2.serialize(rule.prelude).strip()
                if body and selector:
                    into.append(f"{selector} {{ {body} }}")
            elif (rule.type == "at-rule" and rule.lower_at_keyword == "media"
                  and rule.content is not None and into is out):
                inner: list[str] = []
                condition = tinycss2.serialize(rule.prelude).strip()
                out.append((condition, inner))  # type: ignore[arg-type]
                pending.append((tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                         skip_whitespace=True), inner))
    pieces = []
    for item in out:
        if isinstance(item, tuple):
            condition, inner = item
            if inner:
                pieces.append(f"@media {condition} {{ {' '.join(inner)} }}")
        else:
            pieces.append(item)
    # Inside <style> only "</" could end the element: escape "<" the CSS way.
    return "\n".join(pieces).replace("<", "\\3c ")
