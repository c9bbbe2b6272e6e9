"""Text from the data drawn as text, never as Markdown or HTML.

A name, address, label, settings name or message that came from an extract
or a user reaches the browser through Streamlit elements that read Markdown
(``st.markdown``, ``st.write``, captions, headers, alerts, expander and tab
labels, radio options) or through plotly's text and hover labels, which read
a few HTML tags. A surname ``![t](http://host/x.png)`` would otherwise make
the viewer's browser fetch that address, ``**bold**`` or ``:red[x]`` would
format, ``$x$`` would typeset and a bare URL would become a link.

* :func:`md_escape` for every Markdown element;
* :func:`plot_text` for plotly trace names, text, hover data and annotations.

Elements that draw plain text (``st.text``, ``st.code``, dataframes, selectbox
and multiselect options) take the text as it is.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from adapt.core.spec import OFFENCES

# CommonMark lets any ASCII punctuation be backslash-escaped and then shows it
# as itself. Escaping all of it, not a hand-picked list, covers Markdown
# (links, images, emphasis, code, tables, headings), Streamlit's own
# directives (":red[…]", ":material/…:", emoji shortcodes), "$" maths and
# "<" HTML.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM's autolinks are found in the text after escapes are undone (Streamlit
# linked "http\:\/\/host" in a header), so a bare address is broken up with
# an invisible WORD JOINER (U+2060) where the autolink patterns need plain
# characters: after "http"/"https"/"ftp"/"mailto"/"xmpp" before ":", after
# "www" before ".", and after an e-mail address's "@".
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|xmpp)(?=:)|(www)(?=\.)|(@)")


def md_escape(text: object) -> str:
    r"""``text`` as Markdown that shows exactly those characters (and,
    in a web address, an invisible word joiner that stops it becoming a link).

    None and missing values become "". Line breaks are kept (a name has none).

    >>> print(md_escape("**O'Neill** :red[x] <img src=x>"))
    \*\*O\'Neill\*\* \:red\[x\] \<img src\=x\>
    >>> md_escape("![t](http://h/x.png)") == "\\!\\[t\\]\\(http\u2060\\:\\/\\/h\\/x\\.png\\)"
    True
    >>> md_escape(None)
    ''
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    joined = _AUTOLINK.sub(lambda m: m.group() + _JOINER, str(text))
    return _PUNCTUATION.sub(r"\\\1", joined)


def plot_text(text: object) -> str:
    """``text`` for a plotly label or hover text: ``<``, ``>`` and ``&`` as
    entities, so no tag (``<a href>``, ``<img>``, ``<b>``) is drawn; plotly
    shows the entities as the characters.

    >>> plot_text('<a href="http://evil.example/">x</a> & co')
    '&lt;a href="http://evil.example/"&gt;x&lt;/a&gt; &amp; co'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return html.escape(str(text), quote=False)


# ------------------------------------------------------------ plain words
#: What every page writes for a missing date.
NOT_RECORDED = "not recorded"
_OFFENCE_WORDS = {
    "abh": "Actual bodily harm (ABH)",
    "gbh": "Grievous bodily harm (GBH)",
    "breach_of_order": "Breach of a protective order",
}
#: Each offence code of the contract in words.
OFFENCE_WORDS: dict[str, str] = {
    o: _OFFENCE_WORDS.get(o, o.replace("_", " ").capitalize()) for o in OFFENCES
}


def offence_words(offence: pd.Series) -> pd.Series:
    """Offence codes in words ("abh" -> "Actual bodily harm (ABH)"); a code
    outside the vocabulary in words too; missing -> "".

    >>> offence_words(pd.Series(["abh", "common_assault", None])).tolist()
    ['Actual bodily harm (ABH)', 'Common assault', '']
    """
    text = offence.astype("string")
    words = text.map(OFFENCE_WORDS, na_action="ignore")
    fallback = text.str.replace("_", " ").str.capitalize()
    return words.fillna(fallback).fillna("").astype(object)
