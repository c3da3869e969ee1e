"""Requests/second and latency of the served mock on several WSGI servers, against a bare app on the same server.

    python benchmarks/served.py [--duration 5] [--warmup 1] [--connections 2,4] [--servers waitress,gunicorn-gthread]

Each server is started here in a subprocess on 127.0.0.1 (a free port), once with the mock (`wsgi_apps.py`,
BENCH_APP=mock) and once with a bare app answering the same bytes (BENCH_APP=bare, the ceiling), and stopped
again. Every server runs ONE process, as a stateful mock must. Load comes from `wrk` (one thread, keep-alive),
which shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import base64
import http
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from inprocess import AUTH, BASE, SCENARIOS, Scenario, create_sign_request

from esign_contracts.contracts.serve import THREADS
from esign_contracts.mocks import InProcess, Mock, Request

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
BASIC = "Basic " + base64.b64encode(":".join(AUTH).encode()).decode()


@dataclass(frozen=True)
class Server:
    name: str
    module: str  # must be importable for the server to be available
    command: str  # run in this folder; {py} {bin} {host} {port} {threads} are filled in per token

    def argv(self, port: int, threads: int) -> list[str]:
        fields = {"py": PYTHON, "bin": BIN, "host": HOST, "port": port, "threads": threads}
        return [token.format(**fields) for token in self.command.split()]


SERVERS = (
    Server("waitress", "waitress", "{py} wsgi_apps.py waitress {port} {threads}"),
    Server("cheroot", "cheroot", "{py} wsgi_apps.py cheroot {port} {threads}"),
    Server("gunicorn-sync", "gunicorn", "{py} -m gunicorn -w 1 -k sync -b {host}:{port} wsgi_apps:app"),
    Server(
        "gunicorn-gthread",
        "gunicorn",
        "{py} -m gunicorn -w 1 -k gthread --threads {threads} -b {host}:{port} wsgi_apps:app",
    ),
    Server(
        "granian",
        "granian",
        "{py} -m granian --interface wsgi --workers 1 --blocking-threads {threads}"
        " --host {host} --port {port} --no-log wsgi_apps:app",
    ),
    Server(
        "uwsgi",
        "pyuwsgi",
        "{bin}/uwsgi --http11-socket {host}:{port} --processes 1 --threads {threads}"
        " --module wsgi_apps:app --die-on-term --disable-logging --need-app",
    ),
)

LUA = """\
wrk.method = {method}
wrk.path = {path}
wrk.headers["Authorization"] = {auth}
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.0f %.0f %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    ok: bool  # no socket errors, and every answer had the scenario's status class


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def body_of(scenario: Scenario) -> str:
    return json.dumps(scenario.body, separators=(",", ":")) if scenario.body is not None else ""


def wrk_script(scenario: Scenario, path: str, directory: Path) -> Path:
    body = ""
    if scenario.body is not None:
        body = f'wrk.body = {lua_string(body_of(scenario))}\nwrk.headers["Content-Type"] = "application/json"'
    script = directory / f"{scenario.name}-{abs(hash(path))}.lua"
    lua = LUA.format(method=lua_string(scenario.method), path=lua_string(path), auth=lua_string(BASIC), body=body)
    script.write_text(lua)
    return script


def wrk(port: int, script: Path, connections: int, seconds: int, expected: int) -> Result:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script)]
    out = subprocess.run([*command, f"http://{HOST}:{port}"], capture_output=True, text=True, timeout=seconds + 30)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}{out.stderr}")
    count, duration_us, p50, p99, socket_errors, non_2xx = (int(float(x)) for x in line.split()[1:])
    ok = socket_errors == 0 and non_2xx == (count if expected >= 400 else 0)
    return Result(count / (duration_us / 1e6), p50 / 1000, p99 / 1000, ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def fixtures(path: Path) -> str:
    """What the mock answers to each scenario, for the bare app to answer byte for byte; the path's key."""
    mock = Mock("stiply", seed=1)
    session = requests.Session()
    session.auth = AUTH
    with InProcess([mock]):
        key = create_sign_request(session)
    items = []
    for scenario in SCENARIOS:
        headers = {"Authorization": BASIC, **({"Content-Type": "application/json"} if scenario.body else {})}
        url = BASE + scenario.path.format(key=key)
        answer = mock.handle(Request.from_url(scenario.method, url, headers, body_of(scenario)))
        assert answer.status == scenario.status, (scenario, answer)
        items.append(
            {
                "method": scenario.method,
                "request_body": body_of(scenario),
                "status": answer.status,
                "reason": http.HTTPStatus(answer.status).phrase,
                "headers": answer.headers,
                "body": answer.body.decode("utf-8"),
            }
        )
    path.write_text(json.dumps(items))
    return key


class Running:
    """One server process (and its children, in their own session) with one app, stopped on exit."""

    def __init__(self, server: Server, app: str, fixture_file: Path, log: Path, threads: int) -> None:
        self.port = free_port()
        env = {**os.environ, "BENCH_APP": app, "BENCH_FIXTURES": str(fixture_file)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
        self.log = log
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                server.argv(self.port, threads),
                cwd=HERE,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                requests.get(f"http://{HOST}:{self.port}/v1/ping", auth=AUTH, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server not answering on port {self.port} after {timeout} s")

    def __enter__(self) -> Running:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def bench_server(server: Server, args: argparse.Namespace, work: Path, key: str) -> dict[tuple[str, str, int], Result]:
    """Both apps run at once and their wrk runs alternate, so load from elsewhere hits both alike."""
    results = {}
    fixture_file = work / "fixtures.json"
    with (
        Running(server, "bare", fixture_file, work / f"{server.name}-bare.log", args.threads) as bare,
        Running(server, "mock", fixture_file, work / f"{server.name}-mock.log", args.threads) as mock,
    ):
        session = requests.Session()
        session.auth = AUTH
        for scenario in SCENARIOS:
            # A sign request per scenario, so the signers the POST scenario adds do not slow the GET one.
            keys = {"bare": key, "mock": create_sign_request(session, f"http://{HOST}:{mock.port}/v1")}
            ports = {"bare": bare.port, "mock": mock.port}
            scripts = {app: wrk_script(scenario, "/v1" + scenario.path.format(key=k), work) for app, k in keys.items()}
            for app in ports:
                wrk(ports[app], scripts[app], max(args.connections), args.warmup, scenario.status)
            for _ in range(args.repeat):
                for connections in args.connections:
                    for app in ports:
                        result = wrk(ports[app], scripts[app], connections, args.duration, scenario.status)
                        best = results.get((app, scenario.name, connections))
                        if best is None or (result.rps > best.rps and result.ok >= best.ok):
                            results[(app, scenario.name, connections)] = result
                        line = (
                            f"  {server.name:<17} {app:<4} {scenario.name:<8} c={connections} {result.rps:8.0f} req/s"
                        )
                        print(line, file=sys.stderr, flush=True)
    return results


def table(all_results: dict[str, dict[tuple[str, str, int], Result]], connections: list[int]) -> str:
    head = "| server | scenario | conns | req/s | p50 ms | p99 ms | bare req/s | bare p50 | bare p99 | mock/bare |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, results in all_results.items():
        for scenario in SCENARIOS:
            for c in connections:
                m, b = results[("mock", scenario.name, c)], results[("bare", scenario.name, c)]
                flag = "" if m.ok and b.ok else " (!)"
                label = f"{scenario.name} ({scenario.method} {scenario.status})"
                lines.append(
                    f"| {name} | {label} | {c} | {m.rps:.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} "
                    f"| {b.rps:.0f} | {b.p50_ms:.2f} | {b.p99_ms:.2f} | {m.rps / b.rps:.2f}{flag} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = [s.name for s in SERVERS]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured wrk run (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of untimed load per scenario (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the fastest is kept (default 1)")
    parser.add_argument("--connections", default="2,4", help="comma-separated connection counts (default 2,4)")
    parser.add_argument(
        "--threads", type=int, default=THREADS, help=f"threads per server (default {THREADS}, as serve)"
    )
    parser.add_argument("--servers", default=",".join(names), help=f"comma-separated, from: {', '.join(names)}")
    args = parser.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",")]
    if shutil.which("wrk") is None:
        print("wrk is not installed; on Debian/Ubuntu: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    chosen = []
    for name in args.servers.split(","):
        server = next((s for s in SERVERS if s.name == name), None)
        if server is None:
            parser.error(f"unknown server {name!r}; known: {', '.join(names)}")
        if importlib.util.find_spec(server.module) is None:
            print(f"skipping {name}: pip install {server.module}", file=sys.stderr)
            continue
        chosen.append(server)
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    all_results = {}
    with tempfile.TemporaryDirectory(prefix="esign-bench-") as tmp:
        work = Path(tmp)
        key = fixtures(work / "fixtures.json")
        for server in chosen:
            all_results[server.name] = bench_server(server, args, work, key)
    runs = f"best of {args.repeat} runs" if args.repeat > 1 else "one run"
    print(f"served: {runs} of {args.duration} s after {args.warmup} s warm-up; wrk -t1; {args.threads} server threads")
    print(table(all_results, args.connections))
    print("(!) = socket errors, or an answer with another status than the scenario's")
    print(f"load average after: {os.getloadavg()[0]:.2f} (this run itself adds about 2; more means other work)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
