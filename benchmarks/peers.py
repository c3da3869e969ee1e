"""Requests/second and latency of the served Stiply mock against Prism, WireMock and a bare WSGI app.

    python benchmarks/peers.py [--duration 5] [--connections 2,4] [--server-warmup 3] [--warmup 2]
                               [--servers ours,ours-granian,prism,wiremock,bare,bare-granian]
                               [--prism-args=-v silent] [--wiremock-args=...]

One after the other, each on 127.0.0.1 on a free port, in its own process group, started, polled until it
answers, checked (one request per scenario must get the scenario's status), warmed up, measured with wrk and
stopped (also on Ctrl-C). Warm-up: first `--server-warmup` seconds on each scenario in turn (the JVM and
node JITs need it), then `--warmup` seconds right before each scenario's measured runs.

  ours      `esign-contracts serve stiply`: the stateful mock, request validation and state on (cheroot)
  ours-granian  the same with `--server granian`
  prism     Stoplight Prism `prism mock specs/stiply.yaml` (validates every request against the spec)
  wiremock  WireMock standalone (the jar in the npm package `wiremock`, run by java) with stubs that give
            the answers our mock gives: same status, headers and body; the POSTs are matched on their body
  bare      a WSGI app on the same server as ours (cheroot) answering the same bytes: the ceiling
  bare-granian  the same bare app on granian (one worker): the ceiling of ours-granian

Prism and WireMock are installed with npm into a cache folder outside the repository when missing
(default ~/.cache/esign-contracts-bench, or $ESIGN_BENCH_CACHE). Needs wrk, node/npm and java 17.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import requests
from inprocess import AUTH, SCENARIOS, Scenario, create_sign_request
from served import HOST, Result, body_of, fixtures, free_port, wrk, wrk_script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "specs" / "stiply.yaml"
PYTHON = sys.executable
PRISM_VERSION = "5.14.2"
WIREMOCK_VERSION = "3.13.2"
# Targets of the issue: ours/WireMock >= 1, ours/Prism >= 3, ours/bare >= 0.5 (within 2x of the ceiling).
TARGETS = {"wiremock": 1.0, "prism": 3.0, "bare": 0.5}
LABELS = {
    "ours": "ours",
    "ours-granian": "ours (granian)",
    "prism": "Prism",
    "wiremock": "WireMock",
    "bare": "bare (ceiling)",
    "bare-granian": "bare on granian",
}
OURS = {"ours": "bare", "ours-granian": "bare-granian"}  # each of ours, and the bare app on its server


def default_cache() -> Path:
    if os.environ.get("ESIGN_BENCH_CACHE"):
        return Path(os.environ["ESIGN_BENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "esign-contracts-bench"


# --- tools --------------------------------------------------------------------------------------------------


def installed_version(cache: Path, package: str) -> str | None:
    manifest = cache / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text())["version"]


def ensure_npm_packages(cache: Path, wanted: dict[str, str]) -> None:
    """npm install --prefix CACHE the packages whose wanted version is not there yet."""
    missing = [f"{name}@{version}" for name, version in wanted.items() if installed_version(cache, name) != version]
    if not missing:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"npm is needed to install {', '.join(missing)} (Debian: apt-get install -y nodejs npm)")
    cache.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", *missing]
    print(f"installing {', '.join(missing)} into {cache}: {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=sys.stderr)


def wiremock_jar(cache: Path) -> Path:
    jars = sorted((cache / "node_modules" / "wiremock").glob("**/wiremock-standalone-*.jar"))
    if not jars:
        raise SystemExit(f"no wiremock-standalone-*.jar under {cache / 'node_modules' / 'wiremock'}")
    return jars[-1]


def first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return ((out.stdout or out.stderr).strip().splitlines() or ["?"])[0]


def uptime() -> str:
    if shutil.which("uptime"):
        return first_line(["uptime"])
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


# --- processes ----------------------------------------------------------------------------------------------


class Process:
    """A server in its own session (Ctrl-C in the terminal does not reach it), so stop() must always run."""

    def __init__(self, argv: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        with log.open("w") as sink:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, url: str, timeout: float) -> float:
        """Poll until any HTTP answer comes back; the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.popen.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.argv[0]} exited with {self.popen.returncode}:\n{tail}")
            try:
                requests.get(url, timeout=2)
                return time.monotonic() - started
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"nothing answering {url} after {timeout} s; log: {self.log}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far of every process of the server's session (granian's worker is a child;
        all threads; Linux /proc), else None."""
        ticks, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[3]) == self.popen.pid:  # the session id: started with start_new_session
                ticks += int(fields[11]) + int(fields[12])
                found = True
        return ticks / os.sysconf("SC_CLK_TCK") if found else None

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


# --- the servers --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    result: Result
    cpu_us: float | None  # the server process's CPU time per request (from /proc), robust to neighbours' load


def better(new: Cell, old: Cell | None) -> bool:
    return old is None or (new.result.rps > old.result.rps and new.result.ok >= old.result.ok)


@dataclass
class Fixtures:
    key: str  # the sign request the fixed answers (bare, WireMock) belong to
    answers: list[dict]  # served.fixtures: method, request_body, status, reason, headers, body per scenario
    file: Path


@dataclass
class Peer:
    name: str
    argv: Callable[[int, Path], list[str]]  # (port, work dir) -> command line
    prefix: str  # path prefix of the Stiply operations on this server
    cwd: Path = ROOT
    env: dict[str, str] | None = None
    ready_timeout: float = 60
    live_keys: bool = False  # True: create a sign request through the API for each scenario (ours)


def wiremock_mappings(fx: Fixtures, directory: Path) -> None:
    """Stubs answering the three scenarios as our mock does; Basic auth and the POST bodies must match."""
    auth = {"username": AUTH[0], "password": AUTH[1]}
    stubs = []
    for scenario, answer in zip(SCENARIOS, fx.answers, strict=True):
        request: dict = {
            "method": scenario.method,
            "urlPath": "/v1" + scenario.path.format(key=fx.key),
            "basicAuthCredentials": auth,
        }
        if scenario.body is not None:
            request["bodyPatterns"] = [{"equalToJson": body_of(scenario)}]
        response = {"status": answer["status"], "headers": answer["headers"], "body": answer["body"]}
        stubs.append({"request": request, "response": response})
    (directory / "mappings").mkdir(parents=True, exist_ok=True)
    (directory / "mappings" / "stiply.json").write_text(json.dumps({"mappings": stubs}, indent=1))


def peers(cache: Path, fx: Fixtures, prism_args: list[str], wiremock_args: list[str]) -> dict[str, Peer]:
    ours = shutil.which("esign-contracts") or str(Path(PYTHON).parent / "esign-contracts")
    prism = cache / "node_modules" / ".bin" / "prism"
    bare_env = {**os.environ, "BENCH_APP": "bare", "BENCH_FIXTURES": str(fx.file)}

    def wiremock_argv(port: int, work: Path) -> list[str]:
        root = work / "wiremock"
        wiremock_mappings(fx, root)
        return [
            *["java", "-jar", str(wiremock_jar(cache)), "--port", str(port), "--bind-address", HOST],
            *["--root-dir", str(root), "--disable-banner", *wiremock_args],
        ]

    return {
        "ours": Peer(
            "ours",
            lambda port, work: [ours, "serve", "stiply", "--host", HOST, "--port", str(port)],
            "/v1",
            live_keys=True,
        ),
        "prism": Peer(
            "prism",
            # Request validation (security, parameters, body) is always on in `prism mock`; --errors would only
            # turn violations of Prism's own *responses* into errors. -v silent: no per-request logging.
            lambda port, work: [str(prism), "mock", str(SPEC), "-h", HOST, "-p", str(port), *prism_args],
            "",  # Prism serves the paths without the server URL's /v1
        ),
        "ours-granian": Peer(
            "ours-granian",
            lambda port, work: [ours, "serve", "stiply", "--server", "granian", "--host", HOST, "--port", str(port)],
            "/v1",
            live_keys=True,
        ),
        "wiremock": Peer("wiremock", wiremock_argv, "/v1", ready_timeout=120),
        "bare": Peer(
            "bare",
            lambda port, work: [PYTHON, "wsgi_apps.py", "cheroot", str(port)],
            "/v1",
            cwd=HERE,
            env=bare_env,
        ),
        "bare-granian": Peer(
            "bare-granian",
            lambda port, work: [
                *[PYTHON, "-m", "granian", "--interface", "wsgi", "--workers", "1", "--no-log"],
                *["--host", HOST, "--port", str(port), "wsgi_apps:app"],
            ],
            "/v1",
            cwd=HERE,
            env=bare_env,
        ),
    }


# --- measuring ----------------------------------------------------------------------------------------------


def check_answer(base: str, scenario: Scenario, path: str) -> tuple[int, int]:
    """One request as wrk will send it; (status, body bytes)."""
    body = body_of(scenario) or None
    headers = {"Content-Type": "application/json"} if body else {}
    answer = requests.request(scenario.method, base + path, data=body, headers=headers, auth=AUTH, timeout=10)
    return answer.status_code, len(answer.content)


def bench_peer(peer: Peer, fx: Fixtures, args: argparse.Namespace, work: Path) -> dict[tuple[str, int], Cell]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = work / f"{peer.name}.log"
    process = Process(peer.argv(port, work), log, peer.cwd, peer.env)
    results: dict[tuple[str, int], Cell] = {}
    try:
        probe = base + peer.prefix + SCENARIOS[0].path.format(key=fx.key)
        took = process.wait_ready(probe, peer.ready_timeout)
        print(f"{peer.name}: answering after {took:.1f} s ({' '.join(process.argv)})", file=sys.stderr, flush=True)
        session = requests.Session()
        session.auth = AUTH
        scripts = {}
        for scenario in SCENARIOS:
            # Ours: a sign request per scenario made through the API, so the GET hits a live key and the signers
            # the POST scenario adds do not weigh on the others. The fixed-answer servers use the fixtures' key.
            key = create_sign_request(session, base + peer.prefix) if peer.live_keys else fx.key
            path = peer.prefix + scenario.path.format(key=key)
            status, size = check_answer(base, scenario, path)
            mark = "" if status == scenario.status else f"  <-- expected {scenario.status}"
            print(f"  {peer.name:<8} {scenario.name:<8} check: {status}, {size} bytes{mark}", file=sys.stderr)
            if status != scenario.status:
                raise RuntimeError(f"{peer.name} answered {scenario.name} with {status}; see {log}")
            scripts[scenario.name] = wrk_script(scenario, path, work)
        if args.server_warmup:  # a first round through every scenario: the JVM's JIT needs it; all servers get it
            for scenario in SCENARIOS:
                wrk(port, scripts[scenario.name], max(args.connections), args.server_warmup, scenario.status)
        for scenario in SCENARIOS:
            if args.warmup:
                wrk(port, scripts[scenario.name], max(args.connections), args.warmup, scenario.status)
            for connections in args.connections:
                cpu_before = process.cpu_seconds()
                result = wrk(port, scripts[scenario.name], connections, args.duration, scenario.status)
                cpu_after = process.cpu_seconds()
                cpu_us = None
                if cpu_before is not None and cpu_after is not None and result.rps:
                    cpu_us = (cpu_after - cpu_before) / (result.rps * args.duration) * 1e6
                results[(scenario.name, connections)] = Cell(result, cpu_us)
                cpu = f"  server CPU {cpu_us:.0f} µs/req" if cpu_us is not None else ""
                print(
                    f"  {peer.name:<8} {scenario.name:<8} c={connections} {result.rps:8.0f} req/s"
                    f"  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms{cpu}{'' if result.ok else '  (!)'}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        process.stop()
    return results


def truncated(ratio: float) -> str:
    """Two decimals, cut rather than rounded, so that 0.497 never shows as a target's 0.50."""
    return f"{math.floor(ratio * 100 + 1e-9) / 100:.2f}"


def tables(results: dict[str, dict[tuple[str, int], Cell]], connections: list[int]) -> str:
    lines = [
        "| scenario | conns | server | req/s | p50 ms | p99 ms | server CPU µs/req |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        label = f"{scenario.name} ({scenario.method} {scenario.status})"
        for c in connections:
            for name, by_cell in results.items():
                cell = by_cell[(scenario.name, c)]
                r = cell.result
                flag = "" if r.ok else " (!)"
                cpu = "?" if cell.cpu_us is None else f"{cell.cpu_us:.0f}"
                lines.append(
                    f"| {label} | {c} | {LABELS[name]} | {r.rps:.0f}{flag} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {cpu} |"
                )
    for ours, own_bare in OURS.items():
        if ours in results:
            lines += ["", *ratio_table(results, connections, ours, own_bare)]
    return "\n".join(lines)


def ratio_table(
    results: dict[str, dict[tuple[str, int], Cell]], connections: list[int], ours: str, own_bare: str
) -> list[str]:
    """The ratios of one of ours against each peer (its own server's bare app as the ceiling), targets marked."""
    peers_of = {"wiremock": "wiremock", "prism": "prism", "bare": own_bare}
    others = [kind for kind, name in peers_of.items() if name in results]
    # What the ceiling itself reaches against the peers: no app on this server can do better than that.
    context = [name for name in ("wiremock", "prism") if name in results and own_bare in results]
    head = " | ".join(f"{LABELS[ours]}/{LABELS[peers_of[k]]} (target ≥ {TARGETS[k]:g})" for k in others)
    head += "".join(f" | {LABELS[own_bare]}/{LABELS[n]}" for n in context)
    lines = [f"| scenario | conns | {head} |", "|---|---|" + "---:|" * (len(others) + len(context))]
    held = {kind: 0 for kind in others}
    for scenario in SCENARIOS:
        label = f"{scenario.name} ({scenario.method} {scenario.status})"
        for c in connections:
            rps = {name: by_cell[(scenario.name, c)].result.rps for name, by_cell in results.items()}
            cells = []
            for kind in others:
                ratio = rps[ours] / rps[peers_of[kind]]
                ok = ratio >= TARGETS[kind]
                held[kind] += ok
                cells.append(f"{truncated(ratio)} {'yes' if ok else 'NO'}")
            cells += [truncated(rps[own_bare] / rps[name]) for name in context]
            lines.append(f"| {label} | {c} | {' | '.join(cells)} |")
    total = len(SCENARIOS) * len(connections)
    lines.append("")
    for kind in others:
        verdict = "holds" if held[kind] == total else "MISSED"
        lines.append(
            f"target {LABELS[ours]}/{LABELS[peers_of[kind]]} ≥ {TARGETS[kind]:g}: {verdict}"
            f" ({held[kind]} of {total} scenario × conns)"
        )
    return lines


def versions(cache: Path, chosen: list[str]) -> str:
    parts = [
        f"Python {platform.python_version()}",
        f"cheroot {metadata.version('cheroot')}",
        f"granian {metadata.version('granian')}" if any("granian" in name for name in chosen) else "",
        first_line(["wrk", "-v"]).split(" [")[0],
    ]
    if "prism" in chosen:
        parts.append(f"@stoplight/prism-cli {installed_version(cache, '@stoplight/prism-cli')}")
        parts.append(f"node {first_line(['node', '--version'])}")
    if "wiremock" in chosen:
        parts.append(f"wiremock {installed_version(cache, 'wiremock')} ({wiremock_jar(cache).name})")
        parts.append(first_line(["java", "-version"]))
    return "; ".join(part for part in parts if part)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured wrk run (default 5)")
    parser.add_argument(
        "--server-warmup",
        type=int,
        default=3,
        help="seconds per scenario of a first untimed round through all scenarios, per server (default 3)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of untimed load right before each scenario (default 2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the whole sequence N times; keep each cell's best (default 1)"
    )
    parser.add_argument("--connections", default="2,4", help="comma-separated connection counts (default 2,4)")
    parser.add_argument(
        "--servers",
        default="ours,ours-granian,prism,wiremock,bare,bare-granian",
        help="comma-separated, run in this order",
    )
    parser.add_argument(
        "--prism-args", default="-v silent", help="more arguments for `prism mock` (default: -v silent, no logging)"
    )
    parser.add_argument(
        "--wiremock-args",
        default="",
        help="more arguments for the WireMock jar (default: none, its defaults: request journal on, unbounded)",
    )
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where npm installs Prism and WireMock")
    args = parser.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",")]
    chosen = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in LABELS]
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; known: {', '.join(LABELS)}")
    if shutil.which("wrk") is None:
        print("wrk is not installed; on Debian/Ubuntu: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    if "wiremock" in chosen and shutil.which("java") is None:
        print("java is not installed (WireMock needs 17+): apt-get install -y openjdk-17-jre-headless", file=sys.stderr)
        return 2
    wanted = {}
    if "prism" in chosen:
        wanted["@stoplight/prism-cli"] = PRISM_VERSION
    if "wiremock" in chosen:
        wanted["wiremock"] = WIREMOCK_VERSION
    ensure_npm_packages(args.cache, wanted)

    def stop_on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    before = uptime()
    print(f"before: {before}", file=sys.stderr, flush=True)
    results: dict[str, dict[tuple[str, int], Cell]] = {name: {} for name in chosen}
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="esign-peers-") as tmp:
            work = Path(tmp)
            key = fixtures(work / "fixtures.json")
            fx = Fixtures(key, json.loads((work / "fixtures.json").read_text()), work / "fixtures.json")
            table = peers(args.cache, fx, shlex.split(args.prism_args), shlex.split(args.wiremock_args))
            for round_ in range(1, args.rounds + 1):
                if args.rounds > 1:
                    print(f"round {round_} of {args.rounds}: {uptime()}", file=sys.stderr, flush=True)
                for name in chosen:
                    for cell_key, cell in bench_peer(table[name], fx, args, work).items():
                        if better(cell, results[name].get(cell_key)):
                            results[name][cell_key] = cell
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    after = uptime()
    print(
        f"peers: {'one round' if args.rounds == 1 else f'best of {args.rounds} rounds'}"
        f" of {args.duration} s per run; warm-up {args.server_warmup} s per scenario first, then {args.warmup} s"
        f" before each scenario; wrk -t1, keep-alive; {os.cpu_count()} cores; {time.monotonic() - started:.0f} s in all"
    )
    print(f"prism mock ... {args.prism_args}; wiremock jar ... {args.wiremock_args or '(defaults)'}")
    print(f"versions: {versions(args.cache, chosen)}")
    print(f"before: {before}")
    print(f"after:  {after}")
    print()
    print(tables(results, args.connections))
    print("(!) = socket errors, or an answer with another status class than the scenario's")
    print("ratios: req/s over req/s, cut (not rounded) to 2 decimals")
    print("server CPU µs/req: user + system CPU of the server process (all threads) during the run, per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
