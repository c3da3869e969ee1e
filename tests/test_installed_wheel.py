"""The package as a user installs it: a wheel built from this tree, in a fresh venv, used from outside the repo.

Needs the package index (for the build backend and the dependencies), as any install does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_stiply_client.py"
# Left out of the copy the wheel is built from: VCS data, caches, and earlier build output.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installed_in_a_fresh_venv_works_outside_the_repo(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV")) and k != "PYTHONPATH"}

    # Build from a copy, so that the build's own output (build/, *.egg-info) never lands in the work tree.
    start = time.monotonic()
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source], tmp_path, env)
    [wheel] = wheels.glob("esign_contracts-*.whl")
    timings["build"] = time.monotonic() - start

    # A venv of its own; this interpreter's pip installs into it (no ensurepip: faster), pip's cache is reused.
    start = time.monotonic()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel, "pytest"], tmp_path, env)
    timings["install"] = time.monotonic() - start

    # A user's project: outside the repo, strict pytest settings, the example test copied in.
    start = time.monotonic()
    project = tmp_path / "user-project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\nfilterwarnings = error\n")
    (project / "test_stiply_client.py").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = run([python, "-m", "pytest", "-p", "no:cacheprovider", "--trace-config"], project, env)
    assert re.search(r"^=+ 2 passed", out, re.MULTILINE), out
    # The plugin pytest loaded, and the package itself, come from the venv, not from this repo.
    site_packages = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], project, env).strip()
    )
    loaded = re.search(r"<module 'esign_contracts\.contracts\.plugin' from '([^']+)'>", out)
    assert loaded and Path(loaded.group(1)) == site_packages / "esign_contracts" / "contracts" / "plugin.py", out
    where = run([python, "-c", "import esign_contracts; print(*esign_contracts.__path__)"], project, env)
    assert where.split() == [str(site_packages / "esign_contracts")], where
    timings["pytest"] = time.monotonic() - start

    # The installed command, against its built-in mock.
    start = time.monotonic()
    out = run(
        [venv / "bin" / "esign-contracts", "check", "stiply", "--examples", "2", "--sequences", "2"], project, env
    )
    assert "conformant" in out, out
    timings["check"] = time.monotonic() - start

    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
