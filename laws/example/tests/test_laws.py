"""The laws of the censor stage, one pytest case per law (see the README)."""

from __future__ import annotations

from agentcat_laws import laws_of
from censor import censor
from hypothesis import strategies as st

# Text made of the word and pieces of it, so that the word comes up often, cut anywhere.
words = st.lists(st.sampled_from(["darn", "da", "rn", "d", " ", "x"]), max_size=6).map("".join)

test_censor_laws = laws_of(censor, inputs=words)
