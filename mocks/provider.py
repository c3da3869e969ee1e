"""The base of every provider model: its state, its rules by id, its effects by operationId."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import random
import types
import typing
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from esign_contracts.mocks.http import Request, json_bytes
from esign_contracts.mocks.ids import IdSource, RandomIds
from esign_contracts.mocks.validation import schema_problem
from esign_contracts.specs import Operation, load_contract

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Call:
    """A request that passed routing, auth and validation, as a model method sees it."""

    operation: Operation
    request: Request
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    files: dict[str, Any]
    ids: IdSource | None = None

    def new_id(self, resource: str) -> str:
        """An identifier for a resource this call creates: made by the mock, read from the target by the oracle."""
        if self.ids is None:
            raise RuntimeError(f"{self.operation.id} creates a {resource} but no identifier source was given")
        return self.ids(self.operation, resource)

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default


@dataclass(frozen=True)
class Token:
    """A bearer token the model issued: what it may do and until when."""

    scopes: frozenset[str]
    expires: dt.datetime | None = None


@dataclass(frozen=True)
class Callback:
    """A call the provider makes to a URL its client registered (OKdokument sendInfo, Stiply call_back_url)."""

    name: str  # the key of the operation's OpenAPI `callbacks` entry
    url: str
    body: Any = None
    method: str = "POST"


@dataclass(frozen=True)
class Mistake:
    """A client mistake an effect found inside a body the generic validation cannot read (SIGNiX's XML)."""

    rule: str
    source: str
    detail: str
    spec_pointer: str = ""


@dataclass(frozen=True)
class Judgement:
    """One way a target's answer disagrees with the model's prediction (for the oracle)."""

    check: str  # "status", "response schema", "model"
    rule: str
    expected: str
    received: str


@dataclass
class Reply:
    """What an effect answers: a status, a JSON-able body (or bytes), extra headers.

    `outcome` overrides the journal's "ok" (SIGNiX refuses inside a 200); `mistakes` are client mistakes found
    in the body; `judge`, when set, compares a target's answer with this reply (instead of field by field)
    and names the (request, code) pairs the answer reached.
    """

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"
    rule: str = ""
    message: str = ""
    mistakes: tuple[Mistake, ...] = ()
    judge: Callable[[Any], tuple[list[Judgement], list[tuple[str, int]]]] | None = None


def precondition(rule_id: str) -> Callable[[F], F]:
    """Mark a model method as the implementation of the spec's `x-preconditions` id."""

    def mark(fn: F) -> F:
        fn._esign_precondition = rule_id  # type: ignore[attr-defined]
        return fn

    return mark


def effect(operation_id: str) -> Callable[[F], F]:
    """Mark a model method as the documented effect of a successful `operationId`."""

    def mark(fn: F) -> F:
        fn._esign_effect = operation_id  # type: ignore[attr-defined]
        return fn

    return mark


def control(fn: F) -> F:
    """Mark a model method as a control action: a transition the public API cannot make."""
    fn._esign_control = True  # type: ignore[attr-defined]
    return fn


def creates(identifier: str) -> Callable[[F], F]:
    """Mark a control action that creates a resource and returns its fields, `identifier` among them.

    The oracle's shadow model is given the fields the target returned, so both hold the same identifiers.
    """

    def mark(fn: F) -> F:
        fn._esign_creates = identifier  # type: ignore[attr-defined]
        return fn

    return mark


class UnknownProvider(LookupError):
    pass


class ControlError(ValueError):
    """A control action's argument the model refuses: a resource it does not have, a value of the wrong kind."""


# How a message names a kind of value: the control API speaks JSON, so JSON's names (a Python user reads them too).
_EXPECTED = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "an object",
    type(None): "null",
}
_GIVEN = {**_EXPECTED, bool: "a boolean"}


def _fits(value: Any, annotation: Any) -> bool:
    """Whether `value` is of the kind `annotation` names; a container's items are left to the caller, which can
    name the bad item (`signers[0]`), and what is not a plain class (Any, Literal, a TypeVar) is not checked."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, member) for member in typing.get_args(annotation))
    kind = origin or annotation
    if not isinstance(kind, type):
        return True
    if kind in (int, float) and isinstance(value, bool):  # a bool is an int to Python, not to JSON or to a count
        return False
    if kind is float:  # JSON's 1 is a share as much as 1.0
        return isinstance(value, int | float)
    return isinstance(value, kind)


def _expected(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(_expected(member) for member in typing.get_args(annotation))
    kind = typing.get_origin(annotation) or annotation
    return _EXPECTED.get(kind, getattr(kind, "__name__", str(kind)))


@functools.cache
def _parameter_types(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):
        return {}  # an annotation that names what exists only for a type checker: nothing to check at run time
    return {name: hint for name, hint in hints.items() if name != "return"}


def misfits(function: Callable[..., Any], arguments: Mapping[str, Any]) -> list[str]:
    """For each argument not of the kind `function`'s annotation names: "<argument> must be <kind>, got <value> (<its
    kind>)". JSON gives any kind of value; checked first, the code behind meets only the kinds it was written for."""
    declared = _parameter_types(getattr(function, "__func__", function))  # one entry a function, not an instance
    return [
        f"{name} must be {_expected(declared[name])}, got {value!r} ({_GIVEN.get(type(value), type(value).__name__)})"
        for name, value in arguments.items()
        if name in declared and not _fits(value, declared[name])
    ]


def parameters_text(action: Callable[..., Any]) -> str:
    """An action's parameters as a person reads them: "sign_request_key (required), signer_key (default None)"."""
    described = [
        f"{p.name} (required)" if p.default is p.empty else f"{p.name} (default {p.default!r})"
        for p in inspect.signature(action).parameters.values()
    ]
    return ", ".join(described) or "no arguments"


def check_control_arguments(name: str, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Refuse, before it runs, a control action's argument of the wrong kind (a list where an id belongs), naming the
    action, the argument, the kind it takes and the value given; a wrong argument name raises TypeError, as a call
    does, naming what the action takes."""
    signature = inspect.signature(action)
    try:
        arguments = signature.bind(*args, **kwargs).arguments
    except TypeError as exc:  # (raised anew: the traceback of inspect's own frames tells a caller nothing)
        unknown = [repr(key) for key in kwargs if key not in signature.parameters]
        wrong = f"no argument {', '.join(unknown)}" if unknown else str(exc)
        raise TypeError(f"{name}: {wrong}; {name} takes {parameters_text(action)}") from None
    problems = misfits(action, arguments)
    if problems:
        raise ControlError(f"{name}: {'; '.join(problems)}")


_REGISTRY: dict[str, type[Provider]] = {}


class Provider:
    """One provider's documented behaviour. Subclasses declare `name=` and `spec=` and mark their methods."""

    name: ClassVar[str]
    spec: ClassVar[str]
    default_credentials: ClassVar[dict[str, Any]] = {}
    preflight: ClassVar[str] = ""  # a harmless operation whose documented example checks URL and credentials
    preconditions: ClassVar[dict[str, str]]
    effects: ClassVar[dict[str, str]]
    controls: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, *, name: str, spec: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name in _REGISTRY and _REGISTRY[name].__qualname__ != cls.__qualname__:
            raise TypeError(
                f"provider name {name!r} is taken by {_REGISTRY[name].__module__}.{_REGISTRY[name].__qualname__}"
            )
        cls.name, cls.spec = name, spec
        cls.preconditions, cls.effects, controls = {}, {}, []
        for attr in dir(cls):
            # A mark holds wherever it was set along the class hierarchy, so that an override need not repeat it.
            marked = [base.__dict__[attr] for base in cls.__mro__ if attr in base.__dict__]
            for member in marked:
                if hasattr(member, "_esign_precondition"):
                    cls.preconditions.setdefault(member._esign_precondition, attr)
                if hasattr(member, "_esign_effect"):
                    cls.effects.setdefault(member._esign_effect, attr)
            if any(getattr(member, "_esign_control", False) for member in marked):
                controls.append(attr)
        cls.controls = tuple(sorted(controls))
        _REGISTRY[name] = cls

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock or functools.partial(dt.datetime.now, dt.UTC)  # no Python frame, unlike a lambda
        self.credentials: dict[str, Any] = dict(self.default_credentials)  # the engine sets what it accepts
        # Issued tokens are credentials, not resources: they survive reset(), as a client caches its token.
        self.tokens: dict[str, Token] = {}
        self.outbox: list[Callback] = []
        self.seed_random(None)
        self.reset()

    def seed_random(self, seed: int | None) -> None:
        """Where seeds (control actions that make a resource) draw their ids from: a source of their own, so a
        seed never moves the ids of the API's own answers, and seeded with the Mock's seed, so a test that seeds
        the same things gets the same ids on every run."""
        self.seed_randomness = random.Random(None if seed is None else f"seeds of {seed}")
        self._seed_ids = RandomIds(self.seed_randomness.getrandbits(64) if seed is not None else None)

    def now(self) -> dt.datetime:
        return self._clock()

    @control
    def reset(self) -> None:
        """Forget all state."""
        raise NotImplementedError

    def error_body(self, status: int, message: str, code: str | None = None, call: Call | None = None) -> Any:
        """The body of an error answer; the docs rarely give one, so a model says what it assumes.

        `code` is the provider's code for the failed rule (the spec's `code`, or the scheme's x-error-codes).
        """
        return {"message": message}

    def error_response(
        self, status: int, message: str, code: str | None = None, call: Call | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers) of an error answer: JSON `error_body` unless the provider answers otherwise."""
        return (
            status,
            json_bytes(self.error_body(status, message, code, call)),
            {"Content-Type": "application/json"},
        )

    def seed_id(self, given: Any, argument: str, existing: Container[str], operation_id: str, resource: str) -> str:
        """The id a seed gives what it makes: the one the user named (one that routes and is not taken), or a new
        one shaped like the API's own (from `operation_id`'s `x-identifiers` resource)."""
        if given == "":
            return self._seed_ids(load_contract(self.spec).operation(operation_id), resource)
        if not isinstance(given, str) or "/" in given or not given.strip():
            raise ControlError(f"{argument} must be a non-empty string without '/', got {given!r}")
        if given in existing:
            raise ControlError(f"{argument} {given!r} exists already")
        return given

    def check_argument(self, pointer: str, value: Any, argument: str) -> None:
        """Refuse a control action's argument that the spec's schema at `pointer` refuses, naming both."""
        problem = schema_problem(load_contract(self.spec), pointer, value, argument, 0)
        if problem is not None:
            raise ControlError(f"{problem.location}: {problem.detail} (spec: {problem.spec_pointer})")

    def issue_token(self, token: str, scopes: Iterable[str] = (), expires_in: float | None = None) -> None:
        """Remember a token this model handed out, so that the core's auth accepts it."""
        expires = self.now() + dt.timedelta(seconds=expires_in) if expires_in else None
        self.tokens[token] = Token(frozenset(scopes), expires)

    def token(self, token: str) -> Token | None:
        """The live token, or None when it was never issued or has expired."""
        found = self.tokens.get(token)
        if found is not None and found.expires is not None and self.now() >= found.expires:
            return None
        return found

    def call_back(self, name: str, url: str, body: Any = None, method: str = "POST") -> None:
        """Queue a call to a client's URL; the core delivers it once the request or control action is done."""
        self.outbox.append(Callback(name, url, body, method))

    def take_callbacks(self) -> list[Callback]:
        taken, self.outbox = self.outbox, []
        return taken

    def documented_outcomes(self) -> set[tuple[str, int]]:
        """Outcomes the docs define beyond each operation's HTTP statuses (SIGNiX's codes inside its XML)."""
        return set()

    def live_identifiers(self, parameter: str) -> list[str]:
        """Identifiers of resources that exist now, for the path parameter `parameter` (for clean-up)."""
        return []

    def holds(self, rule_id: str, call: Call) -> bool:
        return bool(getattr(self, self.preconditions[rule_id])(call))

    def apply(self, call: Call) -> Reply:
        return getattr(self, self.effects[call.operation.id])(call)


def registered() -> dict[str, type[Provider]]:
    return dict(_REGISTRY)
