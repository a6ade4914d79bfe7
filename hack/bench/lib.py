"""Process, /proc and HTTP helpers of the benchmark driver (hack/bench/bench.py)."""

from __future__ import annotations

import atexit
import os
import re
import secrets
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

KIB = 1024
MIB = 1024 * 1024


class BenchError(Exception):
    """A benchmark step failed; the message says which and why."""


# ---------------------------------------------------------------------------------------------
# Child processes: every one is stopped when the driver exits, however it exits.

_children: list["Child"] = []


def _stop_all() -> None:
    while _children:
        _children.pop().stop()


def _on_signal(signum, _frame) -> None:
    _stop_all()
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


class Child:
    """A started process whose output goes to a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None,
                 stdin=subprocess.DEVNULL, stdout=None):
        self.name, self.log = name, log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._logf = open(log, "wb")
        full_env = dict(os.environ)
        for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            full_env.pop(proxy, None)
        full_env.update(env or {})
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout or self._logf,
                                         stderr=self._logf, env=full_env)
        except OSError as e:
            self._logf.close()
            raise BenchError(f"cannot start {name} ({argv[0]}): {e}") from e
        _children.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchError(f"{self.name} exited with {self.proc.returncode}; log {self.log}:\n{self.tail()}")

    def stop(self, grace: float = 5.0) -> None:
        if self in _children:
            _children.remove(self)
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()
        self._logf.close()


def run(argv: list[str], what: str, timeout: float, env: dict | None = None) -> str:
    """Runs a command to completion; its stdout, or an error with its stderr."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{what}: timed out after {timeout:.0f}s") from e
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stderr.strip()[-2000:]}")
    return done.stdout


def read_line(child: Child, timeout: float) -> str:
    """The next line of a child's stdout (a pipe), waiting at most `timeout` seconds."""
    sel = selectors.DefaultSelector()
    sel.register(child.proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{child.name}: no output after {timeout:.0f}s; log {child.log}:\n{child.tail()}")
            if not sel.select(min(left, 0.5)):
                child.check_alive()
                continue
            chunk = os.read(child.proc.stdout.fileno(), 65536)
            if not chunk:
                child.check_alive()
                raise BenchError(f"{child.name} closed its output; log {child.log}:\n{child.tail()}")
            buf += chunk
    finally:
        sel.close()
    return buf.decode().strip()


# ---------------------------------------------------------------------------------------------
# /proc

_STATUS_FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon, RssFile of a process, in bytes."""
    out = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError as e:
        raise BenchError(f"reading /proc/{pid}/status: {e}") from e
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in _STATUS_FIELDS:
            out[key] = int(value.split()[0]) * KIB
    return out


def reset_peak(pid: int) -> None:
    """Resets the process's VmHWM to its current RSS (Linux >= 4.0, needs ptrace rights)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError as e:
        raise BenchError(f"resetting the peak RSS of pid {pid} (/proc/{pid}/clear_refs): {e}") from e


# ---------------------------------------------------------------------------------------------
# Network

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


# Opener without proxies: everything is on loopback.
urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text format -> (name, labels, value) samples."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            labels = dict(_LABEL.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def random_token() -> str:
    return secrets.token_hex(16)
