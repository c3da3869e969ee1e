"""Ports for `serve`: a free one, and whether one can be listened on, asked before any server binds it."""

from __future__ import annotations

import socket


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (another process could take it before it is used)."""
    with socket.socket(_family(host)) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ensure_can_listen(host: str, port: int) -> None:
    """Raise OSError (address in use, no such address) before a server tries: cheroot leaks the socket it could not
    bind, and granian's worker would fail where nobody sees it."""
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: a TIME_WAIT port is free
        probe.bind((host, port))
