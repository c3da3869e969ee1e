"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from esign_contracts.mocks import InProcess, Mock

ROOT = Path(__file__).resolve().parent.parent
DOCS = Path(__file__).resolve().parent / "data" / "provider-docs"
STIPLY = "https://api.stiply.nl/v1"
PDF = b"%PDF-1.4\n%test document\n%%EOF\n"


@pytest.fixture
def stiply() -> Iterator[tuple[Mock, requests.Session]]:
    """A fresh Stiply mock behind `responses`, and a session that authenticates with its credentials."""
    mock = Mock("stiply", seed=7)
    session = requests.Session()
    session.auth = mock.credentials["basicAuth"]
    with InProcess([mock]) as adapter:
        mock.responses = adapter.responses  # type: ignore[attr-defined]  # as the plugin's fixture has it
        yield mock, session


def create_sign_request(session: requests.Session, **fields: str) -> str:
    answer = session.post(
        f"{STIPLY}/sign_requests",
        files={"file": ("contract.pdf", PDF, "application/pdf")},
        data={"term": "2w", **fields},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["sign_request"]["key"]


def add_signer(session: requests.Session, key: str, email: str = "signer@example.com") -> str:
    answer = session.post(
        f"{STIPLY}/sign_requests/{key}/signers",
        json={"signer_email": email, "signer_signature_fields": [{"name": "signature1"}]},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["key"]
