"""Hypothesis' entry point: registers ``st.from_type`` strategies for agentcat's stream types.

Installing ``agentcat-laws`` opts in: Hypothesis runs :func:`_hypothesis_setup_hook` when it is
imported (unless ``HYPOTHESIS_NO_PLUGINS`` is set), the sanctioned way for a library to register
strategies for its own types. After it, ``st.from_type(Chunk[str])`` draws chunks whose
``accumulated`` ends with their ``delta`` (law W1 holds), and ``st.from_type(ChunkStream[str])``
draws fresh streams built by agentcat. Nothing else in the package registers anything.

The hook runs for every user of Hypothesis in the environment, most of whom never touch
agentcat, so it imports nothing heavy. ``register_type_strategy`` needs the types themselves,
so registering waits for agentcat: at once if it is already imported, otherwise right after its
first import (a one-shot finder on ``sys.meta_path``; anyone who holds a ``Chunk`` to ask
``st.from_type`` about has imported agentcat). What is registered are small functions that
import :mod:`agentcat_laws.strategies` only when ``st.from_type`` first resolves one of the
types.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    from hypothesis.strategies import SearchStrategy

    from agentcat import Chunk, ChunkStream

_AGENTCAT = "agentcat"


def _hypothesis_setup_hook() -> None:
    if _AGENTCAT in sys.modules:
        _register()
    elif not any(isinstance(finder, _AfterAgentcat) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterAgentcat())


def _register() -> None:
    """Register the strategies for ``Chunk`` and ``ChunkStream`` (agentcat is imported)."""
    from hypothesis import strategies as st

    from agentcat import Chunk, ChunkStream

    st.register_type_strategy(Chunk, _chunks)
    st.register_type_strategy(ChunkStream, _streams)


def _chunks(thing: type[Chunk[Any]]) -> SearchStrategy[Chunk[Any]]:
    """``st.from_type(Chunk[T])``, resolved by :func:`agentcat_laws.strategies.chunks_from_type`
    (imported on first use)."""
    from agentcat_laws.strategies import chunks_from_type

    return chunks_from_type(thing)


def _streams(thing: type[ChunkStream[Any]]) -> SearchStrategy[ChunkStream[Any]]:
    """``st.from_type(ChunkStream[T])``, resolved by
    :func:`agentcat_laws.strategies.stream_from_type` (imported on first use)."""
    from agentcat_laws.strategies import stream_from_type

    return stream_from_type(thing)


class _AfterAgentcat(importlib.abc.MetaPathFinder):
    """Finds ``agentcat`` as the other finders do, with a loader that registers the strategies
    once the package has run; it leaves ``sys.meta_path`` then (and stays if the import fails,
    for the next attempt)."""

    def __init__(self) -> None:
        self._finding = False

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != _AGENTCAT or self._finding:
            return None
        self._finding = True  # importlib.util.find_spec asks this finder too
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None  # nothing to wrap: the import goes on (or fails) as it would have
        spec.loader = _ThenRegister(spec.loader, self)
        return spec


class _ThenRegister(importlib.abc.Loader):
    """Runs agentcat with its own loader (given back to the module and its spec first, for
    whatever reads them later), then registers the strategies."""

    def __init__(self, loader: Any, finder: _AfterAgentcat) -> None:
        self._loader = loader
        self._finder = finder

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        _register()
