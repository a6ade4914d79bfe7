#!/usr/bin/env python3
"""Memory and API-load benchmark of cert-manager-rs (`make bench`, `make bench-smoke`).

Against the local control plane (etcd + cm-envtest-apiserver, hack/install-envtest.sh) it loads
the upstream PR's workloads (100 Secrets x 1 MiB, 1000 x 100 KiB; unowned and owned, i.e.
labelled controller.cert-manager.io/fao=true) and runs, one at a time and with WatchListClient on
and off:
  - each component (controller, cainjector, webhook) until /readyz (caches synced);
  - the baseline peer, a client-go 0.36 Secret informer (hack/bench/probe: full or metadata-only,
    JSON or protobuf) until HasSynced.
Per run it records the subject's VmHWM (/proc/<pid>/status, read after sync), the API server's
peak RSS during the subject's start-up (VmHWM reset with `echo 5 > /proc/<pid>/clear_refs`
just before the start), the time from process start to synced, and requests and response bytes
by verb and resource (components: their kubeclient_* metrics; probe: a counting transport).
A scale series (1k, 5k, 20k small unowned Secrets) shows how memory grows with the Secret count.

  bench.py --out docs/benchmarks.md     full run, writes the report, its chart and raw results
  bench.py --smoke                      seconds: controller, 100 x 1 MiB unowned, fails above
                                        --smoke-limit-mib (40) peak RSS
  bench.py --report-only RESULTS.json   regenerate the report from saved results
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

import lib  # noqa: E402
import report  # noqa: E402
from lib import MIB, BenchError, Child  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SYSTEM_NS = "cert-manager"  # the components' own namespace (webhook CA, cluster resources)
WORKLOAD_NS = "bench"
COMPONENTS = ("controller", "cainjector", "webhook")
# After /readyz, the subject keeps running this long before its memory is read, so work that
# the sync triggers (controllers processing the synced objects) is inside the measured window.
SETTLE_S = 0.5
READY_TIMEOUT_S = 180


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    count: int
    size: int
    owned: bool


W_1MIB = Workload("1mib", "100 Secrets x 1 MiB, unowned", 100, MIB, False)
W_1MIB_OWNED = Workload("1mib-owned", "100 Secrets x 1 MiB, owned (fao)", 100, MIB, True)
W_100KIB = Workload("100kib", "1000 Secrets x 100 KiB, unowned", 1000, 100 * 1024, False)
W_100KIB_OWNED = Workload("100kib-owned", "1000 Secrets x 100 KiB, owned (fao)", 1000, 100 * 1024, True)
SCALE_SIZE = 4 * 1024  # about a TLS Secret with a key and a short chain
SCALE_STEPS = (1000, 5000, 20000)

# The baseline peer's cells: (mode, content).
PEER_CELLS = (("full", "protobuf"), ("full", "json"), ("metadata", "protobuf"), ("metadata", "json"))


def peer_name(mode: str, content: str) -> str:
    return f"client-go {mode}, {content}"


# ---------------------------------------------------------------------------------------------
# The control plane


class ControlPlane:
    """etcd + cm-envtest-apiserver on loopback, in a private directory."""

    def __init__(self, envtest_bin: Path, workdir: Path):
        self.dir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        client, peer = lib.free_port(), lib.free_port()
        self.etcd = Child("etcd", [
            str(envtest_bin / "etcd"), "--name=default", f"--data-dir={workdir / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync=true", "--log-level=warn",
            "--quota-backend-bytes=8589934592",
        ], workdir / "etcd.log")
        self.apiserver = Child("cm-envtest-apiserver", [
            str(envtest_bin / "cm-envtest-apiserver"), f"--etcd-servers=http://127.0.0.1:{client}",
            "--secure-port=0", f"--token={lib.random_token()}", f"--kubeconfig-out={self.kubeconfig}",
            f"--cert-dir={workdir / 'pki'}", f"--parent-pid={os.getpid()}",
        ], workdir / "apiserver.log")
        deadline = time.monotonic() + 120
        while not self.kubeconfig.exists():
            self.etcd.check_alive()
            self.apiserver.check_alive()
            if time.monotonic() > deadline:
                raise BenchError(f"the API server was not ready after 120s; log {self.apiserver.log}:\n"
                                 f"{self.apiserver.tail()}")
            time.sleep(0.05)
        kc = self.kubeconfig.read_text()
        self._server = re.search(r"server:\s*(\S+)", kc).group(1)
        self._token = re.search(r"token:\s*(\S+)", kc).group(1)
        ca = base64.b64decode(re.search(r"certificate-authority-data:\s*(\S+)", kc).group(1)).decode()
        self._tls = ssl.create_default_context(cadata=ca)
        self._tls.check_hostname = False  # the chain is still verified against the kubeconfig's CA

    @property
    def pid(self) -> int:
        return self.apiserver.pid

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
        """One request to the API server as its admin; the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self._server}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self._tls, timeout=timeout) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise BenchError(f"{method} {path}: HTTP {e.code}: {e.read()[:300]!r}") from e
        except OSError as e:
            raise BenchError(f"{method} {path}: {e}") from e

    def allocated_bytes(self) -> float:
        """The API server's cumulative heap allocations (go_memstats_alloc_bytes_total)."""
        req = urllib.request.Request(f"{self._server}/metrics", headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(req, context=self._tls, timeout=10) as r:
                text = r.read().decode()
        except OSError as e:
            raise BenchError(f"reading the API server's /metrics: {e}") from e
        for name, _, value in lib.parse_metrics(text):
            if name == "go_memstats_alloc_bytes_total":
                return value
        raise BenchError("the API server's /metrics has no go_memstats_alloc_bytes_total")

    def stop(self) -> None:
        self.apiserver.stop()
        self.etcd.stop()


# ---------------------------------------------------------------------------------------------
# Subjects


class Bench:
    def __init__(self, args, envtest_bin: Path, probe: Path, workdir: Path):
        self.args, self.envtest_bin, self.probe, self.workdir = args, envtest_bin, probe, workdir
        self.bin_dir = Path(args.bin_dir)
        self.results: list[dict] = []
        self.setup: list[dict] = []
        self.idle: dict[str, float] = {}
        self._help: dict[str, str] = {}
        self._seq = 0

    # -- workload --------------------------------------------------------------------------

    def start_control_plane(self, name: str) -> ControlPlane:
        t0 = time.monotonic()
        cp = ControlPlane(self.envtest_bin, self.workdir / name)
        lib.run([str(self.probe), "crds", "--kubeconfig", str(cp.kubeconfig),
                 str(REPO / "charts/cert-manager-rs/crds")], "installing the CRDs", 180)
        lib.run([str(self.probe), "populate", "--kubeconfig", str(cp.kubeconfig), "--namespace",
                 SYSTEM_NS, "--count", "0"], f"creating namespace {SYSTEM_NS}", 60)
        self.log(f"control plane {name} up in {time.monotonic() - t0:.1f}s (pid {cp.pid})")
        return cp

    def populate(self, cp: ControlPlane, count: int, size: int, owned: bool, first: int = 0) -> None:
        t0 = time.monotonic()
        workers = 4 if size >= 512 * 1024 else 16
        argv = [str(self.probe), "populate", "--kubeconfig", str(cp.kubeconfig), "--namespace", WORKLOAD_NS,
                "--count", str(count), "--first", str(first), "--size", str(size),
                "--concurrency", str(workers), f"--owned={'true' if owned else 'false'}"]
        lib.run(argv, f"creating {count} Secrets of {size} bytes", 900)
        took = time.monotonic() - t0
        self.setup.append({"what": f"create {count} Secrets x {size} B", "seconds": round(took, 2)})
        self.log(f"created {count} Secrets x {size} B in {took:.1f}s")

    # -- runs -----------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    def supports(self, binary: Path, flag: str) -> bool:
        if str(binary) not in self._help:
            self._help[str(binary)] = lib.run([str(binary), "--help"], f"{binary} --help", 30)
        return flag in self._help[str(binary)]

    def component_argv(self, name: str, kubeconfig: Path, watchlist: bool) -> tuple[list[str], str, str]:
        binary = self.bin_dir / name
        if not binary.exists():
            raise BenchError(f"{binary} not found: build it first (cargo build --release -p {name})")
        metrics, healthz = lib.free_port(), lib.free_port()
        argv = [str(binary), f"--kubeconfig={kubeconfig}",
                f"--feature-gates=WatchListClient={'true' if watchlist else 'false'}",
                f"--metrics-listen-address=127.0.0.1:{metrics}"]
        ready = f"http://127.0.0.1:{metrics}/readyz"
        if self.supports(binary, "--leader-elect"):
            argv.append("--leader-elect=false")
        if name == "controller":
            argv += [f"--cluster-resource-namespace={SYSTEM_NS}",
                     f"--internal-healthz-listen-address=127.0.0.1:{healthz}"]
            ready = f"http://127.0.0.1:{healthz}/readyz"
        elif name == "webhook":
            dns = f"cert-manager-webhook,cert-manager-webhook.{SYSTEM_NS},cert-manager-webhook.{SYSTEM_NS}.svc"
            argv += ["--bind-address=127.0.0.1", f"--secure-port={lib.free_port()}", f"--healthz-port={healthz}",
                     f"--dynamic-serving-ca-secret-namespace={SYSTEM_NS}",
                     "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca", f"--dynamic-serving-dns-names={dns}"]
            ready = f"http://127.0.0.1:{healthz}/readyz"
        return argv, ready, f"http://127.0.0.1:{metrics}/metrics"

    def run_component(self, cp: ControlPlane, workload: str, name: str, watchlist: bool, rep: int) -> dict:
        argv, ready_url, metrics_url = self.component_argv(name, cp.kubeconfig, watchlist)
        self._seq += 1
        log = self.workdir / "logs" / f"{self._seq:03d}-{workload}-{name}-{'wl' if watchlist else 'paged'}.log"
        alloc_before = cp.allocated_bytes()
        api_before = lib.proc_status(cp.pid)
        lib.reset_peak(cp.pid)
        child = Child(name, argv, log)
        try:
            deadline = child.started + READY_TIMEOUT_S
            while lib.http_get(ready_url, timeout=1.0)[0] != 200:
                child.check_alive()
                if time.monotonic() > deadline:
                    raise BenchError(f"{name} not ready after {READY_TIMEOUT_S}s; log {log}:\n{child.tail()}")
                time.sleep(0.01)
            ready_s = time.monotonic() - child.started
            time.sleep(SETTLE_S)
            child.check_alive()
            mem = lib.proc_status(child.pid)
            api = lib.proc_status(cp.pid)
            api["alloc"] = cp.allocated_bytes() - alloc_before
            status, text = lib.http_get(metrics_url, timeout=5.0)
            if status != 200:
                raise BenchError(f"{name}: GET {metrics_url} answered {status}")
        finally:
            child.stop()
        requests, nbytes, sync, cached, fallbacks = {}, {}, {}, {}, 0
        for metric, labels, value in lib.parse_metrics(text):
            key = f"{labels.get('verb', '')} {labels.get('resource', '')}"
            if metric == "kubeclient_requests_total":
                requests[key] = requests.get(key, 0) + int(value)
            elif metric == "kubeclient_response_bytes_total":
                nbytes[key] = nbytes.get(key, 0) + int(value)
            elif metric == "kubeclient_initial_sync_seconds":
                sync[f"{labels.get('cache')} ({labels.get('mode')})"] = value
            elif metric == "kubeclient_cached_objects":
                cached[labels.get("cache", "")] = int(value)
            elif metric == "kubeclient_watchlist_fallbacks_total":
                fallbacks += int(value)
        return self.record(workload, name, "component", watchlist, rep, mem, api, api_before, ready_s,
                           requests, nbytes, sync=sync, cached=cached, fallbacks=fallbacks)

    def run_peer(self, cp: ControlPlane, workload: str, mode: str, content: str, watchlist: bool, rep: int) -> dict:
        self._seq += 1
        name = peer_name(mode, content)
        log = self.workdir / "logs" / f"{self._seq:03d}-{workload}-probe-{mode}-{content}-{'wl' if watchlist else 'paged'}.log"
        argv = [str(self.probe), "informer", "--kubeconfig", str(cp.kubeconfig), "--mode", mode, "--content", content]
        alloc_before = cp.allocated_bytes()
        api_before = lib.proc_status(cp.pid)
        lib.reset_peak(cp.pid)
        child = Child(name, argv, log, env={"KUBE_FEATURE_WatchListClient": "true" if watchlist else "false"},
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            line = lib.read_line(child, READY_TIMEOUT_S)
            ready_s = time.monotonic() - child.started
            time.sleep(SETTLE_S)
            mem = lib.proc_status(child.pid)
            api = lib.proc_status(cp.pid)
            api["alloc"] = cp.allocated_bytes() - alloc_before
        finally:
            child.stop()
        try:
            out = json.loads(line)
        except json.JSONDecodeError as e:
            raise BenchError(f"{name}: unexpected output {line!r}") from e
        return self.record(workload, name, "peer", watchlist, rep, mem, api, api_before, ready_s,
                           out["requests"], out["response_bytes"],
                           sync={"secrets": out["sync_seconds"]}, cached={"secrets": out["objects"]})

    def record(self, workload, subject, kind, watchlist, rep, mem, api, api_before, ready_s, requests, nbytes,
               **extra) -> dict:
        r = {"workload": workload, "subject": subject, "kind": kind, "watchlist": watchlist, "rep": rep,
             "vmhwm": mem["VmHWM"], "rss": mem["VmRSS"], "rss_anon": mem.get("RssAnon", 0),
             "rss_file": mem.get("RssFile", 0), "api_peak": api["VmHWM"], "api_before": api_before["VmRSS"],
             "api_alloc": api["alloc"],
             "ready_s": round(ready_s, 3), "requests": requests, "response_bytes": nbytes, **extra}
        self.results.append(r)
        self.log(f"{workload:>12} {subject:<28} {'watchlist' if watchlist else 'paged':<9} rep {rep}: "
                 f"peak {r['vmhwm'] / MIB:6.1f} MiB, API server peak {r['api_peak'] / MIB:6.0f} MiB, "
                 f"allocated {r['api_alloc'] / MIB:5.0f} MiB, synced in {ready_s:.2f}s")
        return r

    def idle_allocation(self, cp: ControlPlane, workload: str) -> None:
        """What the API server allocates with no subject over a typical run's span, /metrics
        scrape included: the floor under every run's figure."""
        vals = []
        for _ in range(3):
            before = cp.allocated_bytes()
            time.sleep(1.0)
            vals.append(cp.allocated_bytes() - before)
        self.idle[workload] = statistics.median(vals)

    def measure(self, cp: ControlPlane, workload: str, components, peers) -> None:
        """Every cell `reps` times, interleaved, so slow drifts of the API server's memory spread
        evenly over the cells instead of favouring whichever runs first."""
        self.idle_allocation(cp, workload)
        for rep in range(1, self.args.reps + 1):
            for name in components:
                for wl in (True, False):
                    self.run_component(cp, workload, name, wl, rep)
            for mode, content in peers:
                for wl in (True, False):
                    self.run_peer(cp, workload, mode, content, wl, rep)


# ---------------------------------------------------------------------------------------------
# Runs


def full_run(b: Bench) -> None:
    for w, peers in ((W_1MIB, PEER_CELLS), (W_1MIB_OWNED, ()), (W_100KIB, PEER_CELLS), (W_100KIB_OWNED, ())):
        b.log(f"== workload: {w.title}")
        cp = b.start_control_plane(w.key)
        try:
            b.populate(cp, w.count, w.size, w.owned)
            b.measure(cp, w.key, COMPONENTS, peers)
        finally:
            cp.stop()
    b.log("== scale series")
    cp = b.start_control_plane("scale")
    try:
        have = 0
        for n in SCALE_STEPS:
            b.populate(cp, n - have, SCALE_SIZE, False, first=have)
            have = n
            b.measure(cp, f"scale-{n}", ("controller", "cainjector"), (("metadata", "protobuf"),))
    finally:
        cp.stop()


def smoke_run(b: Bench) -> None:
    cp = b.start_control_plane("smoke")
    try:
        b.populate(cp, W_1MIB.count, W_1MIB.size, False)
        for wl in (True, False):
            b.run_component(cp, W_1MIB.key, "controller", wl, 1)
    finally:
        cp.stop()


def check_smoke(results: list[dict], limit_mib: float) -> bool:
    ok = True
    for r in results:
        mode = "WatchListClient=true" if r["watchlist"] else "WatchListClient=false"
        verdict = "ok" if r["vmhwm"] <= limit_mib * MIB else "TOO HIGH"
        ok &= verdict == "ok"
        print(f"controller, {W_1MIB.title}, {mode}: peak RSS {r['vmhwm'] / MIB:.1f} MiB "
              f"(limit {limit_mib:g} MiB): {verdict}; synced in {r['ready_s']:.2f}s")
    return ok


def results_json(data: dict) -> str:
    """The results as JSON with one run per line: compact, yet diffs show which runs changed."""
    rest = {k: v for k, v in data.items() if k != "results"}
    runs = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in data["results"])
    head = json.dumps(rest, indent=1)[:-2]
    return f'{head},\n "results": [\n  {runs}\n ]\n}}\n'


def tool_path(script: str) -> Path:
    out = lib.run([str(REPO / script)], script, 3600).strip().splitlines()
    if not out:
        raise BenchError(f"{script} printed nothing")
    return Path(out[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="quick check of the controller's peak RSS")
    p.add_argument("--smoke-limit-mib", type=float, default=40.0)
    p.add_argument("--reps", type=int, default=3, help="runs per cell (the report shows medians)")
    p.add_argument("--bin-dir", default=str(Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "release"),
                   help="folder with the controller, cainjector and webhook binaries")
    p.add_argument("--out", type=Path, default=REPO / "docs/benchmarks.md", help="report to write (full run)")
    p.add_argument("--results", type=Path, help="raw results JSON (default: next to --out)")
    p.add_argument("--report-only", type=Path, metavar="RESULTS", help="only regenerate the report")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, etcd data)")
    args = p.parse_args()
    results_path = args.results or args.out.with_suffix(".json")

    if args.report_only:
        data = json.loads(args.report_only.read_text())
        report.write(data, args.out)
        return 0

    started = time.monotonic()
    envtest_bin = Path(os.environ.get("ENVTEST_BIN_DIR") or tool_path("hack/install-envtest.sh"))
    probe = Path(os.environ.get("BENCH_PROBE") or tool_path("hack/bench/build-probe.sh"))
    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-"))
    b = Bench(args, envtest_bin, probe, workdir)
    try:
        if args.smoke:
            smoke_run(b)
            ok = check_smoke(b.results, args.smoke_limit_mib)
            b.log(f"smoke done in {time.monotonic() - started:.0f}s")
            if ok and not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
            elif not ok:
                b.log(f"logs kept in {workdir}")
            return 0 if ok else 1
        full_run(b)
    except BenchError as e:
        print(f"[bench] ERROR: {e}\n[bench] work folder kept: {workdir}", file=sys.stderr)
        return 1
    finally:
        lib._stop_all()
    data = {
        "results": b.results,
        "setup": b.setup,
        "api_idle_alloc": b.idle,
        "reps": args.reps,
        "settle_s": SETTLE_S,
        "bench_seconds": round(time.monotonic() - started),
        "environment": report.environment(Path(args.bin_dir), envtest_bin, probe),
        "workloads": {w.key: w.title for w in (W_1MIB, W_1MIB_OWNED, W_100KIB, W_100KIB_OWNED)},
        "scale": {"steps": list(SCALE_STEPS), "size": SCALE_SIZE},
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(results_json(data))
    report.write(data, args.out)
    b.log(f"wrote {args.out} and {results_path} in {time.monotonic() - started:.0f}s")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
