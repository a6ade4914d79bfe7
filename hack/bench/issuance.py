#!/usr/bin/env python3
"""Issuance benchmark (`make bench-issuance`): how long the controller takes to bring N
Certificates (default 1,000) to Ready, and its peak RSS while doing it.

Against a fresh local control plane per run (hack/install-envtest.sh), with the release
controller binary and its default controllers, it creates a CA chain (SelfSigned Issuer -> CA
Certificate -> CA Issuer), then N leaf Certificates with cert-manager's defaults (RSA-2048 keys,
90 days), as fast as 16 client threads can, and polls until every one is Ready. Per run, once with
WatchListClient on and once off, it records:
  - seconds from the first create to all Ready (and to all created);
  - the controller's VmHWM and VmRSS at the end (/proc/<pid>/status), and its CPU seconds;
  - the API server's peak RSS during the run (VmHWM reset just before the creates);
  - the controller's API requests by verb and resource (its kubeclient_requests_total);
  - CertificateRequests and issued Secrets at the end: exactly one request per Certificate.

  issuance.py --out docs/benchmarks-issuance.md [--count 1000] [--bin-dir target/release]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
import lib  # noqa: E402
from lib import MIB, BenchError, Child  # noqa: E402

NS = "bench"
SYSTEM_NS = bench.SYSTEM_NS
CM = "/apis/cert-manager.io/v1"
CREATE_THREADS = 16
# Client-side limits for the run: high enough that the controller's own work, not the token
# bucket, sets the pace. The report also gives the floor that the defaults (20 QPS, burst 50,
# as cert-manager) put under the same run: its request count / 20 s.
QPS, BURST = 200, 400
DEFAULT_QPS = 20
READY_TIMEOUT_S = 1800
POLL_S = 1.0


def obj(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "cert-manager.io/v1", "kind": kind,
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def create_namespace(cp: bench.ControlPlane, name: str) -> None:
    try:
        cp.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    except BenchError as e:
        if "HTTP 409" not in str(e):
            raise


def ready_names(cp: bench.ControlPlane, kind: str) -> set[str]:
    items = cp.api("GET", f"{CM}/namespaces/{NS}/{kind}", timeout=60)["items"]
    return {i["metadata"]["name"] for i in items
            if any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (i.get("status") or {}).get("conditions") or [])}


def wait_ready(cp: bench.ControlPlane, kind: str, names: set[str], controller: Child, timeout: float) -> float:
    t0 = time.monotonic()
    while True:
        controller.check_alive()
        if names <= ready_names(cp, kind):
            return time.monotonic()
        if time.monotonic() - t0 > timeout:
            missing = sorted(names - ready_names(cp, kind))
            raise BenchError(f"{len(missing)} {kind} not Ready after {timeout:.0f}s, e.g. {missing[:5]}; "
                             f"controller log {controller.log}")
        time.sleep(POLL_S)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def controller_requests(metrics_url: str) -> dict[str, int]:
    status, text = lib.http_get(metrics_url, timeout=5.0)
    if status != 200:
        raise BenchError(f"GET {metrics_url} answered {status}")
    requests: dict[str, int] = {}
    for metric, labels, value in lib.parse_metrics(text):
        if metric == "kubeclient_requests_total":
            key = f"{labels.get('verb', '')} {labels.get('resource', '')}"
            requests[key] = requests.get(key, 0) + int(value)
    return requests


def setup_ca(cp: bench.ControlPlane, controller: Child) -> None:
    cp.api("POST", f"{CM}/namespaces/{NS}/issuers", obj("Issuer", "selfsigned", {"selfSigned": {}}))
    cp.api("POST", f"{CM}/namespaces/{NS}/certificates", obj("Certificate", "bench-ca", {
        "isCA": True, "commonName": "bench CA", "secretName": "bench-ca",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "selfsigned"}}))
    wait_ready(cp, "certificates", {"bench-ca"}, controller, 120)
    cp.api("POST", f"{CM}/namespaces/{NS}/issuers", obj("Issuer", "bench-ca", {"ca": {"secretName": "bench-ca"}}))
    wait_ready(cp, "issuers", {"bench-ca"}, controller, 120)


def leaf(i: int) -> dict:
    return obj("Certificate", f"leaf-{i}", {
        "secretName": f"leaf-{i}-tls", "dnsNames": [f"leaf-{i}.{NS}.example.com"],
        "issuerRef": {"name": "bench-ca", "kind": "Issuer"}})


def one_run(b: bench.Bench, count: int, watchlist: bool) -> dict:
    mode = "wl" if watchlist else "paged"
    cp = b.start_control_plane(f"issuance-{mode}")
    try:
        create_namespace(cp, NS)
        argv, ready_url, metrics_url = b.component_argv("controller", cp.kubeconfig, watchlist)
        argv += [f"--kube-api-qps={QPS}", f"--kube-api-burst={BURST}"]
        controller = Child("controller", argv, b.workdir / "logs" / f"issuance-{mode}.log")
        try:
            deadline = controller.started + bench.READY_TIMEOUT_S
            while lib.http_get(ready_url, timeout=1.0)[0] != 200:
                controller.check_alive()
                if time.monotonic() > deadline:
                    raise BenchError(f"controller not ready; log {controller.log}:\n{controller.tail()}")
                time.sleep(0.05)
            setup_ca(cp, controller)
            lib.reset_peak(cp.pid)
            cpu0 = cpu_seconds(controller.pid)
            t0 = time.monotonic()
            with ThreadPoolExecutor(CREATE_THREADS) as pool:
                list(pool.map(lambda i: cp.api("POST", f"{CM}/namespaces/{NS}/certificates", leaf(i)), range(count)))
            created = time.monotonic()
            b.log(f"{mode}: {count} Certificates created in {created - t0:.1f}s")
            done = wait_ready(cp, "certificates", {f"leaf-{i}" for i in range(count)}, controller, READY_TIMEOUT_S)
            mem = lib.proc_status(controller.pid)
            cpu = cpu_seconds(controller.pid) - cpu0
            api = lib.proc_status(cp.pid)
            requests = controller_requests(metrics_url)
        finally:
            controller.stop()
        crs = cp.api("GET", f"{CM}/namespaces/{NS}/certificaterequests", timeout=60)["items"]
        secrets = cp.api("GET", f"/api/v1/namespaces/{NS}/secrets?labelSelector=controller.cert-manager.io/fao%3Dtrue",
                         timeout=60)["items"]
    finally:
        cp.stop()
    result = {
        "watchlist": watchlist, "count": count,
        "created_s": round(created - t0, 2), "ready_s": round(done - t0, 2),
        "vmhwm": mem["VmHWM"], "vmrss": mem["VmRSS"], "cpu_s": round(cpu, 1),
        "api_vmhwm": api["VmHWM"], "requests": requests,
        # +1: the CA Certificate's own request.
        "certificate_requests": len(crs), "expected_requests": count + 1,
        "issued_secrets": len(secrets),
    }
    b.log(f"{mode}: all Ready in {result['ready_s']}s; controller peak {mem['VmHWM'] / MIB:.1f} MiB; "
          f"{len(crs)} CertificateRequests")
    if len(crs) != count + 1:
        raise BenchError(f"{len(crs)} CertificateRequests for {count + 1} Certificates: duplicates or missing")
    return result


def report(data: dict, out: Path) -> None:
    rows = []
    for r in data["results"]:
        mode = "WatchListClient=true" if r["watchlist"] else "WatchListClient=false"
        total = sum(r["requests"].values())
        rows.append(f"| {mode} | {r['count']:,} | {r['created_s']:.1f} | **{r['ready_s']:.1f}** | "
                    f"{r['count'] / r['ready_s']:.1f} | **{r['vmhwm'] / MIB:.1f}** | {r['vmrss'] / MIB:.1f} | "
                    f"{r['cpu_s']:.1f} | {r['api_vmhwm'] / MIB:.0f} | {r['certificate_requests']:,} | "
                    f"{total / r['count']:.1f} | {total / DEFAULT_QPS:.0f} |")
    req_rows = []
    for r in data["results"]:
        mode = "on" if r["watchlist"] else "off"
        top = sorted(r["requests"].items(), key=lambda kv: -kv[1])
        req_rows.append(f"| {mode} | {sum(r['requests'].values()):,} | "
                        + ", ".join(f"{k}: {v:,}" for k, v in top[:8]) + " |")
    env = data["environment"]
    text = f"""# Issuance benchmark: {data['count']:,} Certificates to Ready

Generated by `make bench-issuance` (`hack/bench/issuance.py`) on {env['date']}; do not edit by hand.

The release `controller` binary with its default controllers runs against a fresh local control
plane (etcd + the API server built from Debian's Kubernetes packages, on loopback). After a CA
chain (SelfSigned Issuer -> CA Certificate -> CA Issuer) is Ready, the driver creates
{data['count']:,} leaf Certificates with cert-manager's defaults (an RSA-2048 key each, 90 days) from
{CREATE_THREADS} threads and polls every {POLL_S:g} s until all are Ready. The controller runs with
`--kube-api-qps={QPS} --kube-api-burst={BURST}` so that its own work sets the pace; with the
defaults (20 QPS, burst 50, as cert-manager) the client-side limit alone needs at least
requests / 20 seconds (last column). Each Certificate goes through
the whole pipeline: trigger, key manager (a private key Secret), request manager (a
CertificateRequest), approver, CA signer, issuing (the Secret), readiness.

| mode | Certificates | all created (s) | all Ready (s) | Certificates/s | controller peak RSS (MiB) | controller RSS at end (MiB) | controller CPU (s) | API server peak RSS (MiB) | CertificateRequests | API requests per Certificate | floor at 20 QPS (s) |
|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

CertificateRequests include the CA Certificate's own; the run fails unless there is exactly one
per Certificate (no duplicate issuance).

Controller API requests during the whole run (its `kubeclient_requests_total`), most frequent first:

| WatchListClient | total | by verb and resource |
|---|---|---|
{chr(10).join(req_rows)}

## Reading the figures

- The time is bounded by CPU: the controller generates {data['count']:,} RSA-2048 keys and signs
  as many certificates, while the API server, etcd and the driver share the same
  {env['cpus']} cores. Controller CPU seconds show its own share.
- Peak RSS includes the caches of {data['count']:,} Certificates, their CertificateRequests, the
  issued Secrets (owned, cached lean: PEM fields kept, other values as digests) and the
  next-private-key Secrets while they exist.

## Machine

{env['cpus']} CPUs ({env['cpu_model']}), {env['mem_gib']} GiB RAM, {env['os']}. Total run
{data['bench_seconds']} s. Rerun: `make bench-issuance` (`ISSUANCE_COUNT=<n>` to change the count).
Raw results: [benchmarks-issuance.json](benchmarks-issuance.json).
"""
    out.write_text(text)


def environment() -> dict:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "cpu_model": cpu_model,
            "mem_gib": round(mem_kib / 1024 / 1024), "os": platform.platform()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=int(os.environ.get("ISSUANCE_COUNT", "1000")))
    p.add_argument("--bin-dir", default=str(Path(os.environ.get("CARGO_TARGET_DIR", bench.REPO / "target")) / "release"))
    p.add_argument("--out", type=Path, default=bench.REPO / "docs/benchmarks-issuance.md")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, etcd data)")
    args = p.parse_args()
    started = time.monotonic()
    envtest_bin = Path(os.environ.get("ENVTEST_BIN_DIR") or bench.tool_path("hack/install-envtest.sh"))
    probe = Path(os.environ.get("BENCH_PROBE") or bench.tool_path("hack/bench/build-probe.sh"))
    workdir = Path(tempfile.mkdtemp(prefix="cm-issuance-"))
    b = bench.Bench(args, envtest_bin, probe, workdir)
    try:
        results = [one_run(b, args.count, wl) for wl in (True, False)]
    except BenchError as e:
        print(f"[bench] ERROR: {e}\n[bench] work folder kept: {workdir}", file=sys.stderr)
        return 1
    finally:
        lib._stop_all()
    data = {"count": args.count, "results": results, "bench_seconds": round(time.monotonic() - started),
            "environment": environment()}
    args.out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    report(data, args.out)
    b.log(f"wrote {args.out} in {data['bench_seconds']}s")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
