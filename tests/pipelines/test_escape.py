"""pipelines.escape: each format shows hostile text as text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from pipelines.escape import html_text, markdown, prometheus_label, terminal, xml_text

HOSTILE = "a\x1b[31mred\x1b[0m\tb\nc\r\x00\x7f\x9b\u202e|<b>&`*_[x](y)\\|~"


def test_terminal_shows_every_control_character_as_an_escape() -> None:
    shown = terminal(HOSTILE)
    assert shown == ("a\\x1b[31mred\\x1b[0m\\tb\\nc\\r\\x00\\x7f\\x9b\\u202e|<b>&`*_[x](y)\\|~")
    assert shown.isprintable()
    assert terminal("plain ünïcode 名前") == "plain ünïcode 名前"


def test_markdown_escapes_markup_and_keeps_a_backslash_pipe() -> None:
    assert markdown("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert markdown("a|b") == "a\\|b"
    assert markdown("a\\|b") == "a\\\\\\|b"  # renders as a\|b, not a|b
    assert markdown("`code` *em* _em_ [l](u) ~~s~~") == (
        "\\`code\\` \\*em\\* \\_em\\_ \\[l\\](u) \\~\\~s\\~\\~"
    )
    assert markdown("two\nlines\x1b") == "two\\\\nlines\\\\x1b"


def test_markdown_renders_back_to_the_visible_text() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    value = "x <b>y</b> a|b a\\|b `t` *e* & z"
    source = f"| h |\n| --- |\n| {markdown(value)} |\n"
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(source)
    cell = rendered.split("<td>")[1].split("</td>")[0]
    assert cell == "x &lt;b&gt;y&lt;/b&gt; a|b a\\|b `t` *e* &amp; z"


def test_xml_text_leaves_only_characters_xml_can_hold() -> None:
    element = ET.Element("e", {"a": xml_text(HOSTILE)})
    element.text = xml_text(HOSTILE)
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert parsed.text is not None and "\\x1b[31mred" in parsed.text and "<b>&" in parsed.text
    attribute = parsed.get("a") or ""
    assert "\\x00" in attribute and "\\x1b" in attribute and "<b>&" in attribute


def test_html_and_prometheus_and_json() -> None:
    assert html_text('<a href="x">&</a>\x1b') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\\x1b"
    assert prometheus_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert json.loads(json.dumps(HOSTILE)) == HOSTILE and "\x1b" not in json.dumps(HOSTILE)
