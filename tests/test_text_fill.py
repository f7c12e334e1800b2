"""The e-mail text's line filling is textwrap's, only faster (a batch wraps every letter)."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from dsar.render.text import fill

WORD = st.text(alphabet="ab\u00a0é(-)’", min_size=1, max_size=90)


@given(
    st.lists(WORD, max_size=40),
    st.sampled_from(["", "1. ", "   - "]),
    st.sampled_from(["", "   ", "      "]),
    st.integers(5, 80),
)
def test_fill_is_textwrap_fill(words, first, rest, width):
    line = " ".join(words)
    expected = textwrap.fill(
        line,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    assert fill(line, first, rest, width) == expected
