"""Text from users or servers, made safe to show inside Markdown-rendered elements."""

from __future__ import annotations

import re

from lib.text import one_line

# Every ASCII punctuation mark can be backslash-escaped in CommonMark; escaping them all
# also defuses Streamlit's own :icon: and :color[...] directives.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object, limit: int = 500) -> str:
    """``text`` as literal characters in st.markdown / st.caption / st.error and friends.

    >>> md("x` [click](https://evil.test) *y*")
    'x\\\\` \\\\[click\\\\]\\\\(https\\\\:\\\\/\\\\/evil\\\\.test\\\\) \\\\*y\\\\*'
    """
    value = one_line(str(text), limit)  # no line breaks: they would start new blocks
    return _PUNCT.sub(r"\\\1", value)
