"""The model as behaviour: stateful mocks driven by the specs, behind `responses` and WSGI adapters."""

from esign_contracts.mocks.engine import Engine, Evaluation
from esign_contracts.mocks.http import Request, Response
from esign_contracts.mocks.inprocess import InProcess
from esign_contracts.mocks.journal import Entry, Journal, Violation
from esign_contracts.mocks.mock import Mock, provider_class
from esign_contracts.mocks.outcome import Expected, Reason
from esign_contracts.mocks.provider import Call, ControlError, Provider, Reply, control, effect, precondition
from esign_contracts.mocks.wsgi import WSGIApp

__all__ = [
    "Call",
    "ControlError",
    "Engine",
    "Entry",
    "Evaluation",
    "Expected",
    "InProcess",
    "Journal",
    "Mock",
    "Provider",
    "Reason",
    "Reply",
    "Request",
    "Response",
    "Violation",
    "WSGIApp",
    "control",
    "effect",
    "precondition",
    "provider_class",
]
