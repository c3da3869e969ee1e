"""Find the documented operation a request is for, from the spec's path templates."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from esign_contracts.specs import Contract, Operation

_MAX_REMEMBERED_ROUTES = 4096


@dataclass(frozen=True)
class Route:
    operation: Operation
    params: dict[str, str]


@dataclass(frozen=True)
class _Template:
    operation: Operation
    literals: tuple[tuple[int, str], ...]
    params: tuple[tuple[int, str], ...]

    def matches(self, segments: list[str]) -> bool:
        """Whether `segments` (as many as the template has) hold its literal segments."""
        for i, literal in self.literals:  # a loop, not all(...) over a generator: this runs on every request
            if segments[i] != literal:
                return False
        return True


@dataclass(frozen=True)
class NoRoute:
    """Why no operation matched: 404 for an unknown path, 405 for a known path with another method."""

    status: int
    allowed: tuple[str, ...]
    nearest: tuple[Operation, ...]

    def message(self, method: str, path: str) -> str:
        if self.status == 405:
            return f"{method} is not documented for {path}; documented methods: {', '.join(self.allowed)}"
        near = "; ".join(f"{op.method} {op.path} ({op.id})" for op in self.nearest)
        return f"{method} {path} matches no documented operation; nearest: {near}"


def _segments(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return [s for s in parts if s != ""] if "" in parts else parts  # most paths have no empty segment to drop


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class Router:
    """Matches paths segment by segment; literal segments win over parameters."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.base = _segments(contract.base_path)
        self._templates = [(op, _segments(op.path)) for op in contract.operations]
        # Only templates with as many segments as the path can match: grouped by length, most literal first,
        # each with its literal segments (index, text) and parameters (index, name) worked out once.
        self._by_length: dict[int, list[_Template]] = {}
        for op, template in self._templates:
            literals = tuple((i, s) for i, s in enumerate(template) if not _is_param(s))
            params = tuple((i, s[1:-1]) for i, s in enumerate(template) if _is_param(s))
            self._by_length.setdefault(len(template), []).append(_Template(op, literals, params))
        for group in self._by_length.values():
            group.sort(key=lambda t: -len(t.literals))
        # A client asks for the same resource again and again (create, add a signer, send, read): the route of a
        # (method, path) it was given is remembered, up to a bound, since matching costs more than the lookup.
        self._found: dict[tuple[str, str], Route] = {}

    def relative(self, path: str) -> list[str] | None:
        segments = _segments(path)
        if segments[: len(self.base)] != self.base:
            return None
        return segments[len(self.base) :]

    def find(self, method: str, path: str) -> Route | NoRoute:
        found = self._found.get((method, path))
        if found is not None:  # a copy: the parameters are the caller's to keep
            return Route(found.operation, dict(found.params))
        route = self._find(method, path)
        if isinstance(route, Route):
            if len(self._found) >= _MAX_REMEMBERED_ROUTES:
                self._found.clear()
            self._found[(method, path)] = Route(route.operation, dict(route.params))
        return route

    def _find(self, method: str, path: str) -> Route | NoRoute:
        segments = self.relative(path)
        if segments is None:
            return NoRoute(404, (), self.nearest([]))
        candidates = []
        for template in self._by_length.get(len(segments), ()):  # most literal first
            if template.matches(segments):
                if template.operation.method == method:
                    return Route(template.operation, {name: segments[i] for i, name in template.params})
                candidates.append(template)
        if candidates:
            best = len(candidates[0].literals)
            tied = [t.operation for t in candidates if len(t.literals) == best]
            return NoRoute(405, tuple(sorted({op.method for op in tied})), tuple(tied))
        return NoRoute(404, (), self.nearest(segments, method))

    def nearest(self, segments: list[str], method: str = "", limit: int = 3) -> tuple[Operation, ...]:
        """The documented operations whose paths look most like `segments` (a typo scores close to a match)."""

        def similarity(want: str, got: str) -> float:
            if _is_param(want):
                return 0.5
            return 1.0 if want == got else difflib.SequenceMatcher(None, want, got).ratio()

        def score(item: tuple[Operation, list[str]]) -> tuple[float, bool]:
            op, template = item
            same = sum(similarity(w, g) for w, g in zip(template, segments, strict=False))
            return (same / max(len(template), len(segments), 1), op.method == method)

        ranked = sorted(self._templates, key=score, reverse=True)
        return tuple(op for op, _ in ranked[:limit])
