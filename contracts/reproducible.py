"""Make a seeded Hypothesis run depend on its seed alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def seed_only() -> Iterator[None]:
    """Stop Hypothesis from mixing literals of the caller's own modules into generated data.

    Hypothesis (6.1xx) draws now and then from the constants found in every loaded module that is
    not installed: the project's sources in an editable install, the user's tests and conftest. A
    `check --seed N` would then draw other data as soon as other code is loaded, and its reproduce
    line would not reproduce. This is Hypothesis-internal; where the internals differ, it does nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the provider module
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    constants = getattr(providers, "Constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if original is None or constants is None or cache is None:
        yield
        return
    empty = constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()
