"""Writes docs/benchmarks.md and its chart from the benchmark's results (hack/bench/bench.py)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from collections import defaultdict
from pathlib import Path

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]

COMPONENT_ORDER = ("controller", "cainjector", "webhook")
PEER_ORDER = ("client-go full, protobuf", "client-go full, json", "client-go metadata, protobuf",
              "client-go metadata, json")
TARGETS_MIB = {"controller-unowned": 20, "controller-owned": 40, "cainjector": 15, "webhook": 12}
GROWTH_TARGET_BYTES = 1024
SHORT = {"1mib": "100 x 1 MiB unowned", "1mib-owned": "100 x 1 MiB owned",
         "100kib": "1000 x 100 KiB unowned", "100kib-owned": "1000 x 100 KiB owned"}
# The API server's VmHWM moves by a few MiB with the state of its Go heap: rises within this
# much of each other count as equal.
API_TOLERANCE = 4 * MIB


# ---------------------------------------------------------------------------------------------
# Environment


def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def environment(bin_dir: Path, envtest_bin: Path, probe: Path) -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    os_name = ""
    if Path("/etc/os-release").exists():
        m = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)
        os_name = m.group(1) if m else ""
    settings, section = [], None
    for line in (REPO / "Cargo.toml").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section and section.startswith("profile.release") and "=" in line:
            pkg = section.removeprefix("profile.release").removeprefix(".package.")
            settings.append(f"{pkg}: {line}" if pkg else line)
    profile = "; ".join(settings)
    go_root = envtest_bin.parent / "root/usr/lib/go-1.26"
    go_version = (go_root / "VERSION").read_text().splitlines()[0] if (go_root / "VERSION").exists() else ""
    sizes = {}
    for name in COMPONENT_ORDER:
        f = bin_dir / name
        if f.exists():
            sizes[name] = f.stat().st_size
    if probe.exists():
        sizes["cm-bench-probe"] = probe.stat().st_size
    commit = _cmd(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _cmd(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(), "os": os_name, "rustc": _cmd(["rustc", "-V"]), "go": go_version,
        "release_profile": profile, "binary_sizes": sizes,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "date": _cmd(["date", "-u", "+%Y-%m-%d %H:%M UTC"]),
    }


# ---------------------------------------------------------------------------------------------
# Aggregation


class Cells:
    """Runs grouped by (workload, subject, watchlist)."""

    def __init__(self, results: list[dict]):
        self.runs: dict[tuple, list[dict]] = defaultdict(list)
        for r in results:
            self.runs[(r["workload"], r["subject"], r["watchlist"])].append(r)

    def get(self, workload: str, subject: str, watchlist: bool) -> list[dict]:
        return self.runs.get((workload, subject, watchlist), [])

    def median(self, workload: str, subject: str, watchlist: bool, field: str) -> float | None:
        runs = self.get(workload, subject, watchlist)
        if not runs:
            return None
        if field == "api_rise":  # how far the API server's peak went above its RSS before the start
            return statistics.median(max(0, r["api_peak"] - r["api_before"]) for r in runs)
        vals = [r[field] for r in runs if field in r]
        return statistics.median(vals) if vals else None

    def subjects(self, workload: str) -> list[str]:
        seen = {s for (w, s, _) in self.runs if w == workload}
        order = list(COMPONENT_ORDER) + list(PEER_ORDER)
        return [s for s in order if s in seen] + sorted(seen - set(order))

    def workloads(self) -> list[str]:
        out = []
        for (w, _, _) in self.runs:
            if w not in out:
                out.append(w)
        return out


def median_run(runs: list[dict], field: str = "vmhwm") -> dict:
    """The run whose `field` is the median (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r[field])
    return ordered[(len(ordered) - 1) // 2]


def mib(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v / MIB:.{digits}f}"


def human_bytes(n: float) -> str:
    if n >= 10 * MIB:
        return f"{n / MIB:.0f} MiB"
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n:.0f} B"


def secrets_only(d: dict) -> dict:
    return {k: v for k, v in d.items() if k.endswith(" secrets")}


def short_kind(key: str) -> str:
    """`WATCH certificates.cert-manager.io` -> `WATCH certificates`."""
    verb, _, resource = key.partition(" ")
    return f"{verb} {resource.split('.', 1)[0]}"


def requests_summary(run: dict) -> str:
    """`LIST secrets x2, WATCH secrets x1` for the Secrets requests of a run."""
    parts = [f"{k} ×{v}" for k, v in sorted(secrets_only(run["requests"]).items()) if v]
    return ", ".join(parts) or "—"


# ---------------------------------------------------------------------------------------------
# The report


def write(data: dict, out: Path) -> None:
    cells = Cells(data["results"])
    chart = out.with_name(out.stem + "-memory.svg")
    chart.write_text(svg_chart(cells, data))
    out.write_text(markdown(cells, data, chart.name))


def markdown(cells: Cells, data: dict, chart_name: str) -> str:
    env = data["environment"]
    reps = data["reps"]
    L: list[str] = []
    add = L.append
    add("# Benchmarks: memory and API-server load")
    add("")
    add("<!-- Generated by `make bench` (hack/bench/bench.py); edit hack/bench/report.py instead. -->")
    add("")
    add("How much memory cert-manager-rs's components need with many large Secrets in the cluster, how "
        "much load their start-up puts on the API server, and how a client-go 0.36 Secret informer (the "
        "Go original's cache) compares on the same data. Every cell is the median of "
        f"{reps} runs against the local control plane. The webhook under a burst of admission "
        "requests is covered separately in [benchmarks-webhook.md](benchmarks-webhook.md).")
    add("")
    add(f"![Peak RSS per component, mode and peer]({chart_name})")
    add("")
    add("## Against DESIGN.md's targets")
    add("")
    add("| target | measured (median) | met? |")
    add("|---|---|---|")
    notes = []
    for row, note in target_rows(cells, data):
        add(row)
        if note:
            notes.append(note)
    add("")
    if notes:
        add("Targets not met, and why:")
        add("")
        for n in notes:
            add(f"- {n}")
        add("")
    findings = list(findings_bullets(cells, data))
    if findings:
        add("## Findings")
        add("")
        for f in findings:
            add(f"- {f}")
        add("")
    add("## Peak memory, sync time and requests per workload")
    add("")
    add("Peak RSS is the subject's VmHWM, read 0.5 s after it reported synced. *API server peak* is how "
        "far the API server's VmHWM over the subject's start-up (reset just before it) rose above its "
        "RSS just before the start, with the peak itself in brackets. Because Go keeps freed heap, "
        "that rise is coarse (a few MiB of noise, and zero when the work fits in memory the API server "
        "already holds); *API server allocated* is the more sensitive measure of the work the "
        "subject caused: the growth of its `go_memstats_alloc_bytes_total` from just before the start "
        "until the subject was synced (including one `/metrics` scrape and background work: "
        + idle_range(data) + " per second when idle). *Synced after* is from process start to `/readyz` answering 200 (the "
        "components) or the informer's `HasSynced` (client-go), so it includes process start-up and "
        "connecting; the client layer's own list time (`kubeclient_initial_sync_seconds`, the longest "
        "cache) is in brackets. Requests and bytes are those of the Secrets caches (every request the "
        "subject made is in [Requests by kind](#requests-by-kind)).")
    add("")
    for w in [w for w in cells.workloads() if not w.startswith("scale-")]:
        add(f"### {data['workloads'].get(w, w)}")
        add("")
        add("| subject | WatchListClient | peak RSS MiB (min–max) | anon / file MiB | API server peak: rise (peak) MiB "
            "| API server allocated MiB | synced after s (list) | Secrets requests | Secrets response bytes |")
        add("|---|---|---|---|---|---|---|---|---|")
        for s in cells.subjects(w):
            for wl in (True, False):
                runs = cells.get(w, s, wl)
                if not runs:
                    continue
                vals = [r["vmhwm"] for r in runs]
                m = median_run(runs)
                syncs = [max(r["sync"].values()) for r in runs if r.get("sync")]
                sync = statistics.median(syncs) if syncs else None
                add(f"| {s} | {'on' if wl else 'off'} | **{mib(statistics.median(vals))}** "
                    f"({mib(min(vals))}–{mib(max(vals))}) "
                    f"| {mib(cells.median(w, s, wl, 'rss_anon'))} / {mib(cells.median(w, s, wl, 'rss_file'))} "
                    f"| +{mib(cells.median(w, s, wl, 'api_rise'), 0)} ({mib(cells.median(w, s, wl, 'api_peak'), 0)}) "
                    f"| {mib(cells.median(w, s, wl, 'api_alloc'), 0)} "
                    f"| {cells.median(w, s, wl, 'ready_s'):.2f}"
                    + (f" ({sync:.2f})" if sync is not None else "")
                    + f" | {requests_summary(m)} | {human_bytes(sum(secrets_only(m['response_bytes']).values()))} |")
        if w.endswith("-owned"):
            add("")
            add("The client-go informers cache every Secret whatever its labels, so their figures for the "
                "owned variant are those of the unowned one above.")
        add("")
    scale_section(L, cells, data)
    requests_section(L, cells, data)
    env_section(L, data)
    method_section(L, data)
    return "\n".join(L).rstrip() + "\n"


def target_rows(cells: Cells, data: dict):
    unowned = [w for w in ("1mib", "100kib") if cells.get(w, "controller", True)]
    owned = [w for w in ("1mib-owned", "100kib-owned") if cells.get(w, "controller", True)]
    titles = data["workloads"]

    def peak(subject, workloads, modes=(True, False)):
        best = None
        for w in workloads:
            for wl in modes:
                v = cells.median(w, subject, wl, "vmhwm")
                if v is not None and (best is None or v > best[0]):
                    best = (v, w, wl)
        return best

    def mem_row(label, subject, workloads, limit, modes=(True, False), why=""):
        p = peak(subject, workloads, modes)
        if p is None:
            return None
        v, w, wl = p
        ok = v <= limit * MIB
        detail = ", ".join(
            f"{SHORT.get(x, x)}: " + " / ".join(
                mib(cells.median(x, subject, m, "vmhwm")) for m in modes) for x in workloads)
        modes_txt = "on / off" if len(modes) == 2 else "on"
        row = f"| {label} | highest {mib(v)} MiB (WatchListClient {modes_txt}: {detail}) | {'yes' if ok else '**no**'} |"
        note = None if ok else f"**{label}**: {mib(v)} MiB ({titles.get(w, w)}, WatchListClient " \
                               f"{'on' if wl else 'off'}). {why}"
        return row, note

    rows = [
        mem_row("controller, Secrets not owned: <= 20 MiB either mode", "controller", unowned, 20,
                why=_why_file_pages("controller")),
        mem_row("controller, Secrets owned (fao): <= 40 MiB with WatchList", "controller", owned, 40, (True,),
                why="The owned cache keeps each Secret's PEM fields and only digests of its other values (see Findings)."),
        mem_row("cainjector: <= 15 MiB", "cainjector",
                [w for w in ("1mib", "1mib-owned", "100kib", "100kib-owned") if cells.get(w, "cainjector", True)], 15,
                why=_why_file_pages("cainjector")),
        mem_row("webhook: <= 12 MiB", "webhook",
                [w for w in ("1mib", "1mib-owned", "100kib", "100kib-owned") if cells.get(w, "webhook", True)], 12,
                why=_why_file_pages("webhook") + " The webhook keeps no Secret cache; see "
                "[benchmarks-webhook.md](benchmarks-webhook.md) for the size-optimised build that meets it."),
    ]
    for r in rows:
        if r:
            yield r
    # Sync time against the client-go protobuf informer (full objects), per mode.
    for w in unowned:
        for wl in (True, False):
            ours = cells.median(w, "controller", wl, "ready_s")
            go = cells.median(w, "client-go full, protobuf", wl, "ready_s")
            if ours is None or go is None:
                continue
            ok = ours <= go
            mode = "on" if wl else "off"
            note = None
            if not ok:
                runs = cells.get(w, "controller", wl)
                slowest = max(median_run(runs, "ready_s").get("sync", {}).items(), key=lambda kv: kv[1],
                              default=("?", 0))
                times = ", ".join(f"{r['ready_s']:.2f}" for r in runs)
                note = (f"**controller sync time, {titles.get(w, w)}, WatchListClient {mode}**: {ours:.2f} s vs "
                        f"client-go's {go:.2f} s (runs: {times} s). "
                        f"The slowest of its caches was `{slowest[0]}` ({slowest[1]:.2f} s); client-go's probe "
                        "has only the Secrets informer, while the controller also waits for its custom-resource "
                        "caches. On this API server the first streaming list of each custom resource after the "
                        "server started took about 1 s and later ones about 0.1 s (compare the runs, and the "
                        "scale series, which reuses one server); paged lists are not affected.")
            yield (f"| controller synced no later than the client-go protobuf informer ({SHORT.get(w, w)}, "
                   f"WatchListClient {mode}) | {ours:.2f} s vs {go:.2f} s | {'yes' if ok else '**no**'} |", note)
    # API server peak during start-up: WatchList <= LIST, as the rise above its RSS before the start.
    explained = False
    for subject in COMPONENT_ORDER:
        for w in unowned + owned:
            on = cells.median(w, subject, True, "api_rise")
            off = cells.median(w, subject, False, "api_rise")
            if on is None or off is None:
                continue
            ok = on <= off + API_TOLERANCE
            a_on = cells.median(w, subject, True, "api_alloc")
            a_off = cells.median(w, subject, False, "api_alloc")
            note = None if ok else (f"**API server peak with {subject}, {titles.get(w, w)}**: +{mib(on, 0)} MiB "
                                    f"with WatchList vs +{mib(off, 0)} MiB paged (allocated {mib(a_on, 0)} vs "
                                    f"{mib(a_off, 0)} MiB). "
                                    + ("Same cause as above." if explained else WHY_API_METADATA))
            explained |= not ok
            yield (f"| API server peak during {subject} start-up, WatchList <= LIST ({SHORT.get(w, w)}) "
                   f"| +{mib(on, 0)} vs +{mib(off, 0)} MiB (allocated {mib(a_on, 0)} vs {mib(a_off, 0)} MiB) "
                   f"| {'yes' if ok else '**no**'} |", note)
    for w in unowned:
        for subject in ("client-go full, protobuf", "client-go full, json"):
            on = cells.median(w, subject, True, "api_rise")
            off = cells.median(w, subject, False, "api_rise")
            if on is None or off is None:
                continue
            ok = on <= off + API_TOLERANCE
            a_on = cells.median(w, subject, True, "api_alloc")
            a_off = cells.median(w, subject, False, "api_alloc")
            yield (f"| (reference) API server peak during {subject} start-up, WatchList <= LIST "
                   f"({SHORT.get(w, w)}) | +{mib(on, 0)} vs +{mib(off, 0)} MiB (allocated {mib(a_on, 0)} vs "
                   f"{mib(a_off, 0)} MiB) | {'yes' if ok else 'no'} |", None)
    # Growth per Secret.
    steps = data.get("scale", {}).get("steps", [])
    if len(steps) >= 2:
        lo, hi = steps[0], steps[-1]
        for subject in ("controller", "cainjector"):
            for wl in (True, False):
                a = cells.median(f"scale-{lo}", subject, wl, "vmhwm")
                b = cells.median(f"scale-{hi}", subject, wl, "vmhwm")
                if a is None or b is None:
                    continue
                per = (b - a) / (hi - lo)
                ok = per <= GROWTH_TARGET_BYTES
                mode = "on" if wl else "off"
                note = None if ok else (f"**{subject} growth, WatchListClient {mode}**: {per:.0f} bytes per "
                                        f"unowned Secret ({lo} -> {hi}).")
                yield (f"| {subject}: <= 1 KiB more per unowned Secret, {lo:,} -> {hi:,} (WatchListClient {mode}) "
                       f"| {per:.0f} B per Secret ({mib(a)} -> {mib(b)} MiB) | {'yes' if ok else '**no**'} |", note)


def idle_range(data: dict) -> str:
    vals = list(data.get("api_idle_alloc", {}).values())
    if not vals:
        return "not measured"
    lo, hi = min(vals), max(vals)
    return f"{lo / MIB:.1f} MiB" if round(lo / MIB, 1) == round(hi / MIB, 1) else f"{lo / MIB:.1f}–{hi / MIB:.1f} MiB"


def findings_bullets(cells: Cells, data: dict):
    """Data-driven observations worth a sentence each."""
    w = "1mib"
    title = data["workloads"].get(w, w)
    c_on, c_off = cells.median(w, "controller", True, "vmhwm"), cells.median(w, "controller", False, "vmhwm")
    g_on = cells.median(w, "client-go full, protobuf", True, "vmhwm")
    g_off = cells.median(w, "client-go full, protobuf", False, "vmhwm")
    m_on = cells.median(w, "client-go metadata, protobuf", True, "vmhwm")
    if None not in (c_on, c_off, g_on, g_off, m_on):
        yield (f"With {title}, the controller peaks at {mib(c_on)} MiB streaming and {mib(c_off)} MiB paged: "
               f"{g_on / c_on:.0f}x and {g_off / c_off:.0f}x less than a client-go informer holding the Secrets "
               f"(protobuf: {mib(g_on)} / {mib(g_off)} MiB), and {m_on / c_on:.1f}x less than a client-go "
               f"metadata-only informer ({mib(m_on)} MiB). Its anonymous memory (heap, stacks, caches) is "
               f"{mib(cells.median(w, 'controller', True, 'rss_anon'))} MiB; the rest is its code.")
    o_on = cells.median("1mib-owned", "controller", True, "vmhwm")
    o_off = cells.median("1mib-owned", "controller", False, "vmhwm")
    if o_on is not None and o_off is not None:
        yield (f"Owned Secrets (`{'controller.cert-manager.io/fao'}=true`) are cached lean: the PEM fields the "
               "controller compares (tls.crt, ca.crt, tls.key) are kept, every other value only as a SHA-256 digest. "
               f"With 100 MiB of owned payload the controller peaks at {mib(o_on)} MiB streaming, where each Secret is "
               f"decoded and trimmed on its own, and at {mib(o_off)} MiB paged: LIST pages of full Secrets are sized by "
               "bytes (4 Secrets first, then about 4 MiB per page), so at most a few MiB of raw response are held at "
               "once, where client-go's 500-object pages hold all 100 Secrets.")
    a_on = cells.median(w, "controller", True, "api_alloc")
    a_off = cells.median(w, "controller", False, "api_alloc")
    p_on = cells.median(w, "client-go metadata, protobuf", True, "api_alloc")
    p_off = cells.median(w, "client-go metadata, protobuf", False, "api_alloc")
    if None not in (a_on, a_off, p_on, p_off) and a_on > 4 * max(a_off, MIB):
        yield (f"A streaming list of metadata only is cheap for the client but not for the API server: while "
               f"the controller's metadata-only caches sync it allocates {mib(a_on, 0)} MiB with WatchList against "
               f"{mib(a_off, 0)} MiB for paged LISTs, and the same happens to client-go's metadata informer "
               f"({mib(p_on, 0)} vs {mib(p_off, 0)} MiB): the server (k8s.io/apiserver 0.36, served from its watch "
               "cache) allocates about the Secrets' full size to stream their metadata, while a metadata LIST "
               "allocates almost nothing. The allocations are short-lived, so the server's peak RSS rises by "
               "much less (the API-server rows above), but it is CPU and GC work proportional to the "
               "payload. Paging the metadata-only caches even with "
               "WatchListClient on would avoid it at no cost to the client (compare the paged rows).")
    unowned = ("1mib", "100kib")
    first = [r for r in data["results"] if r["subject"] == "controller" and r["watchlist"] and r["rep"] == 1
             and r["workload"] in unowned]
    later = [r for r in data["results"] if r["subject"] == "controller" and r["watchlist"] and r["rep"] > 1
             and r["workload"] in unowned]
    if first and later:
        yield (f"Time to synced with WatchList (unowned Secrets): the first controller start on a fresh API "
               f"server took "
               f"{statistics.median(r['ready_s'] for r in first):.2f} s and later "
               f"ones {statistics.median(r['ready_s'] for r in later):.2f} s. The wait is in the streaming lists "
               "of custom resources (Certificates, Issuers, ...; see `kubeclient_initial_sync_seconds` in the "
               "raw results), whose first streaming list after the server started takes about 1 s; the Secrets "
               "caches sync in about 0.1 s.")


WHY_API_METADATA = (
    "The extra load comes from streaming the metadata-only Secrets cache: the API server allocates about "
    "the Secrets' full size to stream their metadata, against almost nothing for a paged metadata LIST, "
    "and client-go's metadata informer causes the same (see Findings). It is a property of the server "
    "(k8s.io/apiserver 0.36), not of the client; the client-side fix is to page metadata-only caches even "
    "with WatchListClient on, which costs the client nothing measurable here (the paged rows).")


def _why_file_pages(component: str) -> str:
    return (f"Most of the {component}'s RSS is file-backed: the pages of its own code and read-only data "
            "mapped in as it runs (see the anon / file split below), which grows with the size of the "
            "binary rather than with the data; its anonymous memory (heap, stacks, caches) is the part "
            "that depends on the Secrets.")


def scale_section(L: list[str], cells: Cells, data: dict) -> None:
    scale = data.get("scale", {})
    steps = scale.get("steps", [])
    if not steps or not cells.get(f"scale-{steps[0]}", "controller", True):
        return
    add = L.append
    add(f"## Scale series: unowned Secrets of {human_bytes(scale['size'])}")
    add("")
    add("The same components with 1,000, 5,000 and 20,000 small unowned Secrets (added to the same "
        "control plane), and a client-go metadata-only informer as the reference. Peak RSS in MiB "
        "(anonymous part in brackets), median of the runs; the last column is the growth per Secret "
        f"from {steps[0]:,} to {steps[-1]:,}.")
    add("")
    add("| subject | WatchListClient | " + " | ".join(f"{n:,} Secrets" for n in steps) + " | per Secret |")
    add("|---|---|" + "---|" * len(steps) + "---|")
    for subject in cells.subjects(f"scale-{steps[0]}"):
        for wl in (True, False):
            vals = [cells.median(f"scale-{n}", subject, wl, "vmhwm") for n in steps]
            anon = [cells.median(f"scale-{n}", subject, wl, "rss_anon") for n in steps]
            if any(v is None for v in vals):
                continue
            per = (vals[-1] - vals[0]) / (steps[-1] - steps[0])
            add(f"| {subject} | {'on' if wl else 'off'} | "
                + " | ".join(f"{mib(v)} ({mib(a)})" for v, a in zip(vals, anon)) + f" | {per:.0f} B |")
    add("")
    add("API server peak during start-up (rise above its RSS before, MiB) and time to synced (s):")
    add("")
    add("| subject | WatchListClient | " + " | ".join(f"{n:,} Secrets" for n in steps) + " |")
    add("|---|---|" + "---|" * len(steps))
    for subject in cells.subjects(f"scale-{steps[0]}"):
        for wl in (True, False):
            cols = []
            for n in steps:
                a = cells.median(f"scale-{n}", subject, wl, "api_rise")
                t = cells.median(f"scale-{n}", subject, wl, "ready_s")
                cols.append("—" if a is None else f"+{mib(a, 0)} / {t:.2f}")
            add(f"| {subject} | {'on' if wl else 'off'} | " + " | ".join(cols) + " |")
    add("")


def requests_section(L: list[str], cells: Cells, data: dict) -> None:
    add = L.append
    add("## Requests by kind")
    add("")
    add("Every request each subject made until it was synced, by verb and resource (API group left out), "
        "with the response bytes received (from the median run by peak RSS). Components count them in "
        "`kubeclient_requests_total` / `kubeclient_response_bytes_total`; the probe counts them in its "
        "transport the same way.")
    add("")
    for w in [w for w in ("1mib", "1mib-owned") if w in cells.workloads()]:
        add(f"### {data['workloads'].get(w, w)}")
        add("")
        add("| subject | WatchListClient | requests | response bytes |")
        add("|---|---|---|---|")
        for s in cells.subjects(w):
            for wl in (True, False):
                runs = cells.get(w, s, wl)
                if not runs:
                    continue
                m = median_run(runs)
                reqs = ", ".join(f"{short_kind(k)} ×{v}" for k, v in sorted(m["requests"].items()) if v)
                byts = ", ".join(f"{short_kind(k)} {human_bytes(v)}"
                                 for k, v in sorted(m["response_bytes"].items()) if v)
                add(f"| {s} | {'on' if wl else 'off'} | {reqs} | {byts} |")
        add("")


def env_section(L: list[str], data: dict) -> None:
    env = data["environment"]
    add = L.append
    add("## Machine and build")
    add("")
    add(f"- {env['cpus']} CPUs ({env['cpu']}), {env['memory_gib']} GiB RAM, Linux {env['kernel']}, {env['os']}")
    add(f"- {env['rustc']}; release profile: `{env['release_profile']}`; glibc malloc")
    add(f"- components: release builds of commit {env['commit']}; sizes: "
        + ", ".join(f"{k} {human_bytes(v)}" for k, v in env["binary_sizes"].items()))
    add(f"- control plane: etcd 3.5 + cm-envtest-apiserver (k8s.io/apiserver 0.36.4 from Debian, watch cache "
        f"and WatchList on, Go soft memory limit 1 GiB); client-go 0.36.4 probe built with {env['go']}")
    add(f"- run on {env['date']}; the whole `make bench` measurement took {data['bench_seconds'] // 60} min "
        f"{data['bench_seconds'] % 60} s")
    add("")


def method_section(L: list[str], data: dict) -> None:
    add = L.append
    add("## How it is measured")
    add("")
    add("```")
    add("make bench          # release builds, the probe, all workloads: rewrites this page")
    add("make bench-smoke    # seconds: fails if the controller peaks above 40 MiB (100 x 1 MiB unowned)")
    add("hack/bench/bench.py --reps 5 --out /tmp/b.md         # more runs per cell, elsewhere")
    add("hack/bench/bench.py --report-only docs/benchmarks.json   # re-render this page")
    add("```")
    add("")
    add("`make bench` builds `cargo build --release -p controller -p cainjector -p webhook`, the local "
        "control plane (`hack/install-envtest.sh`, cached) and the probe (`hack/bench/build-probe.sh`: "
        "hack/bench/probe built offline with the same Debian Go packages, cached), then runs "
        "`hack/bench/bench.py`. For each workload it starts a fresh etcd + API server, installs the CRDs, "
        "creates the Secrets (random payload, one namespace) and runs every subject alone, one after "
        f"the other, {data['reps']} times each, cycling through the cells so that each repetition sees "
        "the API server in a similar state:")
    add("")
    add("- components: `--feature-gates=WatchListClient=true|false`, `--leader-elect=false`, loopback "
        "metrics/health ports (the webhook with a dynamic serving CA). Synced = `/readyz` is 200;")
    add("- client-go: a shared-informer-factory Secret informer (full) or a metadata-only informer "
        "(the requests and reflector of client-go's metadatainformer), `KUBE_FEATURE_WatchListClient` "
        "for the mode, protobuf or JSON. Synced = `HasSynced`.")
    add("")
    add("Memory: `VmHWM` (peak resident set) from `/proc/<pid>/status`, read while the subject still "
        "runs, 0.5 s after it synced. It counts file-backed pages (the binary's code) as well as "
        "anonymous memory, so the anonymous and file parts are shown separately. API server: "
        "`echo 5 > /proc/<pid>/clear_refs` resets its VmHWM to its current RSS just before the subject "
        "starts. Caveat: Go keeps freed heap for a while, so a run that follows a memory-hungry one can "
        "reuse that memory without raising the peak; the bracketed RSS before each run shows that state.")
    add("")
    add("The raw runs are in [benchmarks.json](benchmarks.json). Workload creation took: "
        + "; ".join(f"{s['what']}: {s['seconds']:.0f} s" for s in data.get("setup", [])) + ".")
    add("")


# ---------------------------------------------------------------------------------------------
# Chart: peak RSS per subject and mode, one panel per workload (hand-written SVG).


def svg_chart(cells: Cells, data: dict) -> str:
    panels = [(w, data["workloads"].get(w, w)) for w in ("1mib", "100kib") if w in cells.workloads()]
    rows_per_panel = []
    for w, _ in panels:
        rows = []
        for s in cells.subjects(w):
            rows.append((s, w))
            if s == "controller" and f"{w}-owned" in cells.workloads():
                rows.append(("controller, owned (fao)", f"{w}-owned"))
        rows_per_panel.append(rows)
    vmax = max((r["vmhwm"] for r in data["results"] if not r["workload"].startswith("scale-")), default=MIB)
    vmax_mib = vmax / MIB
    step = next(s for s in (10, 20, 50, 100, 200, 500, 1000) if vmax_mib / s <= 8)
    axis_max = step * (int(vmax_mib // step) + 1)
    label_w, plot_w, bar_h, gap, panel_gap = 230, 560, 11, 8, 60
    width = label_w + plot_w + 90
    y = 70
    out = []
    scale = plot_w / axis_max
    colours = {True: "#2b6cb0", False: "#dd8a2c"}
    for (w, title), rows in zip(panels, rows_per_panel):
        top = y
        out.append(f'<text x="{label_w}" y="{y - 22}" font-size="14" font-weight="bold">{_esc(title)}</text>')
        for subject, workload in rows:
            real = "controller" if subject.startswith("controller") else subject
            out.append(f'<text x="{label_w - 8}" y="{y + bar_h + 4}" text-anchor="end" font-size="12">'
                       f'{_esc(subject)}</text>')
            for i, wl in enumerate((True, False)):
                v = cells.median(workload, real, wl, "vmhwm")
                by = y + i * bar_h
                if v is None:
                    continue
                bw = max(1.0, v / MIB * scale)
                out.append(f'<rect x="{label_w}" y="{by}" width="{bw:.1f}" height="{bar_h - 1}" '
                           f'fill="{colours[wl]}"><title>{_esc(subject)}, WatchListClient '
                           f'{"on" if wl else "off"}: {v / MIB:.1f} MiB</title></rect>')
                out.append(f'<text x="{label_w + bw + 4:.1f}" y="{by + bar_h - 2}" font-size="10">'
                           f'{v / MIB:.1f}</text>')
            y += 2 * bar_h + gap
        for t in range(0, axis_max + 1, step):
            x = label_w + t * scale
            out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{y}" stroke="#ccc" stroke-width="0.5"/>')
            out.append(f'<text x="{x:.1f}" y="{y + 14}" text-anchor="middle" font-size="10">{t}</text>')
        out.append(f'<text x="{label_w + plot_w / 2}" y="{y + 30}" text-anchor="middle" font-size="11">'
                   'peak RSS (VmHWM), MiB</text>')
        y += panel_gap + 20
    height = y
    legend = (f'<rect x="{label_w}" y="14" width="12" height="10" fill="{colours[True]}"/>'
              f'<text x="{label_w + 16}" y="23" font-size="12">WatchListClient on (streaming list)</text>'
              f'<rect x="{label_w + 250}" y="14" width="12" height="10" fill="{colours[False]}"/>'
              f'<text x="{label_w + 266}" y="23" font-size="12">WatchListClient off (paged LIST)</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{legend}\n' + "\n".join(out) + "\n</svg>\n")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
