"""Hypothesis' entry point: registers ``st.from_type`` strategies for agentcat's stream types.

Installing ``agentcat-laws`` opts in: Hypothesis runs :func:`_hypothesis_setup_hook` when it is
imported (unless ``HYPOTHESIS_NO_PLUGINS`` is set), the sanctioned way for a library to register
strategies for its own types. After it, ``st.from_type(Chunk[str])`` draws chunks whose
``accumulated`` ends with their ``delta`` (law W1 holds), and ``st.from_type(ChunkStream[str])``
draws fresh streams built by agentcat. Nothing else in the package registers anything.
"""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    from hypothesis import strategies as st

    from agentcat import Chunk, ChunkStream
    from agentcat_laws.strategies import chunks_from_type, stream_from_type

    st.register_type_strategy(Chunk, chunks_from_type)
    st.register_type_strategy(ChunkStream, stream_from_type)
