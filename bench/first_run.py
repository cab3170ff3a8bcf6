"""Seconds from ``make run`` on a fresh clone with a cold package cache to the first 200.

What a newcomer does: clone, ``make run``, open the site. The script clones this repository's
committed HEAD into a temporary directory, gives uv an empty cache (``UV_CACHE_DIR`` in the
temporary directory) and pip none at all (``PIP_NO_CACHE_DIR``), runs ``make run`` there and
asks for ``/`` every 100 ms until it answers 200. Then it stops the server and runs
``make run`` once more in the same clone (the warm second start: environment and database
exist). Each line ``make run`` prints is time-stamped, so the phases show where the time goes.

    python bench/first_run.py [--port 8109] [--timeout 300] [--keep]

Prints the phases, both totals and ``uptime`` (the machine is shared: the load average says
how much the figures were disturbed). Exits non-zero when the cold start takes 20 s or more.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 20.0


def _reader(stream, lines: list[tuple[float, str]], start: float) -> None:
    for raw in iter(stream.readline, b""):
        lines.append((time.monotonic() - start, raw.decode(errors="replace").rstrip()))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def timed_run(clone: Path, env: dict[str, str], port: int, timeout: float) -> tuple[float, list]:
    """Start ``make run`` in ``clone``; return seconds to the first 200 and its output."""
    start = time.monotonic()
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopping it stops the worker too
    )
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=_reader, args=(process.stdout, lines, start), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    elapsed = -1.0
    try:
        while time.monotonic() - start < timeout:
            if process.poll() is not None:
                break
            if _answers(url):
                elapsed = time.monotonic() - start
                break
            time.sleep(0.1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=5)
    return elapsed, lines


def _print_phases(lines: list[tuple[float, str]]) -> None:
    for seconds, text in lines:
        if text.strip():
            print(f"  {seconds:6.1f} s  {text[:110]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8109)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    parser.add_argument("--quiet", action="store_true", help="print the totals only")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="trefpunt-first-run-"))
    clone = work / "trefpunt"
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        dropped = ("TREFPUNT_", "UV_", "VIRTUAL_ENV", "DJANGO_", "PIP_", "PYTHONDONTWRITEBYTECODE")
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(dropped) and key != "DATABASE_URL"
        }
        env["UV_CACHE_DIR"] = str(work / "uv-cache")  # cold: nothing downloaded before
        env["PIP_NO_CACHE_DIR"] = "1"
        cold, cold_lines = timed_run(clone, env, args.port, args.timeout)
        warm, warm_lines = timed_run(clone, env, args.port, args.timeout)
    finally:
        if args.keep:
            print(f"clone kept in {clone}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    if not args.quiet:
        print("cold start (fresh clone, empty package cache), output of make run:")
        _print_phases(cold_lines)
        print("warm start (same clone again), output of make run:")
        _print_phases(warm_lines)
    print(f"first 200, cold: {cold:.1f} s" if cold >= 0 else "cold start never answered 200")
    print(f"first 200, warm: {warm:.1f} s" if warm >= 0 else "warm start never answered 200")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    ok = 0 <= cold < LIMIT_SECONDS
    print(f"[{'x' if ok else ' '}] cold start under {LIMIT_SECONDS:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
