"""vizgrad.app.markdown.plain(): user or URL text shown in Streamlit markdown exactly as typed."""
import re

from hypothesis import given, strategies as st

from vizgrad.app.markdown import plain

PAYLOADS = [
    ":red[**SECURITY ALERT**] [verify your account](https://evil.example/phish)",
    "![x](https://evil.example/i.png)",
    "<img src=x onerror=alert(1)> <b>bold</b> &amp;",
    r"$\href{https://evil.example}{x}$",
    "visit www.evil.example or WWW.Evil.example, mail admin@evil.example, ftp://evil.example",
    "# heading\n\n* item\n> quote",
    "`code` ~~strike~~ | table |",
]


def _unescape(md: str) -> str:
    """What CommonMark shows for a text made only of backslash escapes and plain characters."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md).replace("\u2060", "")


def test_every_special_character_is_escaped():
    for p in PAYLOADS:
        md = plain(p)
        # no markdown-special character stands without its backslash
        assert not re.search(r"(?<!\\)[!-/:-@\[-`{-~]", re.sub(r"\\[!-/:-@\[-`{-~]", "", md)), md
        assert "\n" not in md


def test_no_autolink_trigger_survives():
    # GFM links bare URLs, www. names and e-mail addresses after escapes are resolved
    for p in PAYLOADS:
        text = re.sub(r"\\(.)", r"\1", plain(p))  # the text once the escapes are resolved
        assert "://" not in text and not re.search(r"(?i)(?<![a-z0-9])www\.", text), (p, text)
        assert not re.search(r"@[A-Za-z0-9]", text), (p, text)


@given(st.text(max_size=200))
def test_the_text_shown_is_the_text_given(s):
    assert _unescape(plain(s)) == " ".join(s.split())
