"""Text a user typed or a link carried, shown in Streamlit markdown exactly as typed (no UI code).

    st.error(plain(message))     # message may quote a URL parameter, an uploaded file, an expression

Every page puts such text through `plain`; the page models' own markdown (describe(), the tables'
cells) does too.
"""
from __future__ import annotations

import re

# Every character CommonMark lets a backslash escape: with each one escaped, Streamlit's markdown
# shows the text as typed (no **bold**, [links](…), ![images](…), :red[colour] directives,
# $LaTeX$, <html> or &entities;).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub-flavoured markdown also turns bare URLs, www. names and e-mail addresses into links, after
# the escapes are resolved; an invisible word joiner (U+2060) inside each trigger stops it.
_AUTOLINK = re.compile(r"(:(?=//)|(?<![^\W_])www(?=\.)|@(?=[A-Za-z0-9]))", re.IGNORECASE)


def plain(text) -> str:
    """Markdown that shows `text` literally: for anything a user typed or a URL carried that goes
    into st.error / st.warning / st.markdown / st.caption. Line breaks become spaces."""
    text = _AUTOLINK.sub("\\1\u2060", " ".join(str(text).split()))
    return _MD_SPECIAL.sub(r"\\\1", text)
