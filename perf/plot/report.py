#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""perf/plot/report.py OUTDIR: turn the raw results perf/run left in
OUTDIR/raw into OUTDIR/summary.json, OUTDIR/report.md and the plots
(gnuplot, PNG + SVG). Every figure is a median over repeated runs; a figure
that could not be measured is null in summary.json, with the reason in
report.md (and in summary.json's "not_measured")."""
import glob
import json
import os
import re
import statistics
import subprocess
import sys

OUT = sys.argv[1]
RAW = os.path.join(OUT, "raw")
HERE = os.path.dirname(os.path.abspath(__file__))

SYSTEMS = [
    ("kamailio", "Kamailio (kernel UDP, 1 core)"),
    ("sipline-tap", "sipline via TAP (1 worker core)"),
    ("sipline-memif", "sipline via memif (1 worker core)"),
]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def rnd(x, nd=1):
    return None if x is None else round(x, nd)


machine = load(os.path.join(RAW, "machine.json")) or {}
params = load(os.path.join(RAW, "params.json")) or {}
notes = {}
try:
    for line in open(os.path.join(RAW, "notes.txt")):
        if "\t" in line:
            k, v = line.rstrip("\n").split("\t", 1)
            notes[k] = v
except OSError:
    pass


def reason_for(system):
    key = system.replace("-", "_")
    return notes.get(key) or notes.get(system) or "not run (see raw/ and the perf/run log)"


# ------------------------------------------------------------ per system
def ramps(system):
    runs = []
    for p in sorted(glob.glob(os.path.join(RAW, f"{system}-ramp-*.json"))):
        d = load(p)
        if d and "ramp" in d:
            runs.append(d)
    return runs


PREEMPT = {}   # system: [share of the measured runs its workers waited for a CPU]


def loads(system):
    """{rate: [ {json, cpu_s} ... ]}"""
    out = {}
    for p in glob.glob(os.path.join(RAW, f"{system}-load-*-*.json")):
        m = re.search(r"-load-(\d+)-(\d+)\.json$", p)
        d = load(p)
        if not m or not d:
            continue
        cpu = adj = None
        try:
            cpu = float(open(p[:-5] + ".cpu").read())
        except (OSError, ValueError):
            pass
        try:
            # sipline: busy, idle, worker run and run-queue wait seconds.
            # Busy turns that lost the CPU still count busy; scaling by the
            # share of time the workers were on a CPU takes that out.
            a, b = [list(map(float, l.split())) for l in open(p[:-5] + ".cpuraw").read().splitlines()[:2]]
            if len(a) == 4:
                busy, run, wait = b[0] - a[0], b[2] - a[2], b[3] - a[3]
                adj = busy * run / (run + wait) if run + wait > 0 else None
                PREEMPT.setdefault(system, []).append(wait / (run + wait) if run + wait > 0 else None)
        except (OSError, ValueError):
            pass
        out.setdefault(int(m.group(1)), []).append({"r": d, "cpu_s": cpu, "cpu_adj_s": adj})
    return out


def load_figures(runs):
    """Medians over the repetitions at one rate."""
    def per_call(x, key="cpu_s"):
        ok = x["r"].get("calls_ok", 0)
        return x[key] * 1e6 / ok if x.get(key) is not None and ok else None
    lat = lambda x, k, p: x["r"]["latency_us"][k][p]
    return {
        "reps": len(runs),
        "achieved_cps": rnd(med([x["r"]["achieved_cps"] for x in runs])),
        "failed_pct": rnd(med([x["r"]["failed_pct"] for x in runs]), 4),
        "calls_ok": med([x["r"]["calls_ok"] for x in runs]),
        "cpu_us_per_call": rnd(med([per_call(x) for x in runs]), 2),
        "cpu_us_per_call_oncpu": rnd(med([per_call(x, "cpu_adj_s") for x in runs]), 2),
        "p50_invite_to_200_us": rnd(med([lat(x, "invite_to_200", "p50") for x in runs])),
        "p99_invite_to_200_us": rnd(med([lat(x, "invite_to_200", "p99") for x in runs])),
        "p99_invite_to_180_us": rnd(med([lat(x, "invite_to_180", "p99") for x in runs])),
        "p99_bye_to_200_us": rnd(med([lat(x, "bye_to_200", "p99") for x in runs])),
        "retransmissions": med([x["r"]["retransmissions"] for x in runs]),
        "gen_cpu_us_per_call": rnd(med([x["r"]["gen_cpu_us_per_call"] for x in runs]), 2),
        "_cdf_run": sorted(runs, key=lambda x: lat(x, "invite_to_200", "p99"))[len(runs) // 2]["r"],
    }


def gen_bound(r):
    """True when the step right above the max failed only because the
    generator fell behind: the max is then a lower bound."""
    above = [st for st in r["ramp"]["steps"] if st["offered_cps"] > r["max_cps"]]
    if not above:
        return False
    first = min(above, key=lambda st: st["offered_cps"])
    return first["generator_limited"] and first["failed_pct"] <= THRESHOLD_PCT


THRESHOLD_PCT = params.get("max_fail_pct", 0.1)
sysres = {}
for name, label in SYSTEMS:
    rs = ramps(name)
    ld = loads(name)
    sysres[name] = {
        "label": label,
        "ramps": rs,
        "max_cps_runs": [r["max_cps"] for r in rs],
        "max_cps": rnd(med([r["max_cps"] for r in rs])),
        "gen_bound_runs": sum(1 for r in rs if gen_bound(r)),
        "loads": {rate: load_figures(v) for rate, v in sorted(ld.items())},
    }

# The equal-load rates: those Kamailio ran at (perf/run uses the same for
# sipline via TAP); the headline is the highest rate both have.
k_rates = set(sysres["kamailio"]["loads"])
t_rates = set(sysres["sipline-tap"]["loads"])
common = sorted(k_rates & t_rates) or sorted(k_rates or t_rates)
THRESHOLD = params.get("max_fail_pct", 0.1)


def passes(rate):
    """Every system measured at this rate kept within the threshold."""
    for s in ("kamailio", "sipline-tap"):
        f_ = sysres[s]["loads"].get(rate)
        if f_ and (f_["failed_pct"] is None or f_["failed_pct"] > THRESHOLD):
            return False
    return True


# The headline is the highest equal-load rate at which no system failed
# more calls than the threshold (CPU per call of a system that is shedding
# calls is not comparable); the lowest rate when none qualifies.
passing = [r for r in common if passes(r)]
headline_rate = passing[-1] if passing else (common[0] if common else None)


def at(system, rate, key):
    f = sysres[system]["loads"].get(rate)
    return f.get(key) if f else None


memif_rate = max(sysres["sipline-memif"]["loads"]) if sysres["sipline-memif"]["loads"] else None
gen = load(os.path.join(RAW, "gen-ramp-1.json"))
gen_null = load(os.path.join(RAW, "gen-null-ramp-1.json"))

summary = {
    "sipline_max_cps_per_core": sysres["sipline-memif"]["max_cps"],
    "sipline_cpu_us_per_call": at("sipline-memif", memif_rate, "cpu_us_per_call"),
    "sipline_p99_invite_to_200_us": at("sipline-memif", memif_rate, "p99_invite_to_200_us"),
    "sipline_cpu_us_per_call_source": "memif" if memif_rate else None,
    "sipline_cpu_us_per_call_oncpu": at("sipline-memif", memif_rate, "cpu_us_per_call_oncpu"),
    "kamailio_max_cps": sysres["kamailio"]["max_cps"],
    "kamailio_cpu_us_per_call": at("kamailio", headline_rate, "cpu_us_per_call"),
    "kamailio_p99_invite_to_200_us": at("kamailio", headline_rate, "p99_invite_to_200_us"),
    "sipline_tap_max_cps": sysres["sipline-tap"]["max_cps"],
    "sipline_tap_cpu_us_per_call": at("sipline-tap", headline_rate, "cpu_us_per_call"),
    "sipline_tap_cpu_us_per_call_oncpu": at("sipline-tap", headline_rate, "cpu_us_per_call_oncpu"),
    "sipline_tap_p99_invite_to_200_us": at("sipline-tap", headline_rate, "p99_invite_to_200_us"),
    "equal_load_cps": headline_rate,
    "sipline_memif_load_cps": memif_rate,
    "gen_kernel_max_cps": rnd(gen.get("max_cps")) if gen else None,
    "gen_kernel_cpu_us_per_call": gen.get("gen_cpu_us_per_call") if gen else None,
    "gen_dpdk_cpu_us_per_call": at("sipline-memif", memif_rate, "gen_cpu_us_per_call"),
    "gen_null_max_cps": rnd(gen_null.get("max_cps")) if gen_null else None,
    "gen_null_cpu_us_per_call": gen_null.get("gen_cpu_us_per_call") if gen_null else None,
}
# Without memif, sipline's figures come from the TAP runs (and say so).
if summary["sipline_cpu_us_per_call"] is None and summary["sipline_tap_cpu_us_per_call"] is not None:
    summary["sipline_cpu_us_per_call"] = summary["sipline_tap_cpu_us_per_call"]
    summary["sipline_cpu_us_per_call_oncpu"] = summary["sipline_tap_cpu_us_per_call_oncpu"]
    summary["sipline_p99_invite_to_200_us"] = summary["sipline_tap_p99_invite_to_200_us"]
    summary["sipline_cpu_us_per_call_source"] = "tap"
k_cpu, s_cpu = summary["kamailio_cpu_us_per_call"], summary["sipline_cpu_us_per_call"]
summary["kamailio_to_sipline_cpu_ratio"] = rnd(k_cpu / s_cpu, 2) if k_cpu and s_cpu else None
k_max, s_max = summary["kamailio_max_cps"], summary["sipline_max_cps_per_core"]
summary["sipline_to_kamailio_max_cps_ratio"] = rnd(s_max / k_max, 2) if k_max and s_max else None

# Micro benchmarks: every number, flattened as bench_<sub>_<key>, plus the
# whole objects under "micro".
micro = {}
for sub in ("parse", "timer", "txn", "proxy"):
    d = load(os.path.join(RAW, f"bench-{sub}.json"))
    micro[sub] = d
    if d:
        for k, v in d.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                summary[f"bench_{sub}_{k}"] = v
    else:
        summary[f"bench_{sub}"] = None

# Why each null is null.
not_measured = {}
for k, v in summary.items():
    if v is not None or k.endswith("_source"):
        continue
    if k.startswith("bench_"):
        sub = k.split("_")[1]
        not_measured[k] = notes.get(f"bench_{sub}") or notes.get("micro") or "not run"
    elif k.startswith("kamailio") or k == "equal_load_cps":
        not_measured[k] = reason_for("kamailio")
    elif k.startswith("sipline_tap"):
        not_measured[k] = reason_for("sipline-tap")
    elif k.startswith("sipline") or k.startswith("gen_dpdk"):
        not_measured[k] = notes.get("sipline_memif") or reason_for("sipline-memif")
    elif k.startswith("gen_kernel"):
        not_measured[k] = notes.get("gen_kernel_max_cps") or "not run"
    elif k.startswith("gen_null"):
        not_measured[k] = notes.get("gen_null_max_cps") or "not run"
    elif k.endswith("_ratio"):
        not_measured[k] = "one of its two figures is missing"
summary["not_measured"] = not_measured
summary["equal_load"] = {
    str(rate): {s: {k: v for k, v in (sysres[s]["loads"].get(rate) or {}).items() if not k.startswith("_")}
                for s in ("kamailio", "sipline-tap")}
    for rate in common
}
summary["max_cps_runs"] = {s: sysres[s]["max_cps_runs"] for s, _ in SYSTEMS}
summary["micro"] = micro
summary["machine"] = machine
summary["params"] = params
with open(os.path.join(OUT, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)

# ------------------------------------------------------------ plot data
plot_systems = []
for name, _ in SYSTEMS:
    steps = [(s["offered_cps"], s["failed_pct"]) for r in sysres[name]["ramps"] for s in r["ramp"]["steps"]]
    if steps:
        with open(os.path.join(OUT, f"cps_fail_{name}.dat"), "w") as f:
            for x, y in sorted(steps):
                f.write(f"{x} {y}\n")
        plot_systems.append(name)
if gen:
    with open(os.path.join(OUT, "cps_fail_generator-loopback.dat"), "w") as f:
        for s in sorted(gen["ramp"]["steps"], key=lambda s: s["offered_cps"]):
            f.write(f"{s['offered_cps']} {s['failed_pct']}\n")
    plot_systems.append("generator-loopback")

cdf_systems = []
for name in ("kamailio", "sipline-tap"):
    f_ = sysres[name]["loads"].get(headline_rate)
    if f_ and f_["_cdf_run"].get("cdf_invite_to_200_us"):
        with open(os.path.join(OUT, f"cdf_{name}.dat"), "w") as f:
            for v, p in f_["_cdf_run"]["cdf_invite_to_200_us"]:
                f.write(f"{max(v, 0.1)} {p}\n")
        cdf_systems.append(name)

cpu_rows = [(f"Kamailio, {headline_rate}/s", summary["kamailio_cpu_us_per_call"]),
            (f"sipline TAP, {headline_rate}/s", summary["sipline_tap_cpu_us_per_call"]),
            (f"sipline memif, {memif_rate}/s", at("sipline-memif", memif_rate, "cpu_us_per_call")),
            (f"generator kernel, {headline_rate}/s", at("kamailio", headline_rate, "gen_cpu_us_per_call")),
            (f"generator DPDK, {memif_rate}/s", summary["gen_dpdk_cpu_us_per_call"])]
cpu_rows = [(k, v) for k, v in cpu_rows if v is not None]
if cpu_rows:
    with open(os.path.join(OUT, "cpu.dat"), "w") as f:
        for k, v in cpu_rows:
            f.write(f'"{k}" {v}\n')

plots = []


def gnuplot(script, expr):
    try:
        r = subprocess.run(["gnuplot", "-e", expr, os.path.join(HERE, script)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            print(f"report.py: gnuplot {script}: {r.stderr.strip()}", file=sys.stderr)
            return False
        return True
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"report.py: gnuplot {script}: {e}", file=sys.stderr)
        return False


if plot_systems and gnuplot("cps_vs_failed.gp", f"dir='{OUT}'; systems='{' '.join(plot_systems)}'"):
    plots.append(("Offered calls/s vs failed calls", "cps_vs_failed"))
if cdf_systems and gnuplot("latency_cdf.gp", f"dir='{OUT}'; systems='{' '.join(cdf_systems)}'; rate='{headline_rate}'"):
    plots.append(("INVITE→200 latency CDF at equal load", "latency_cdf"))
if cpu_rows and gnuplot("cpu_per_call.gp", f"dir='{OUT}'"):
    plots.append(("CPU µs per call", "cpu_per_call"))

# ------------------------------------------------------------ report.md
def fmt(v, nd=1, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{nd}f}{unit}"
    return f"{v:,}{unit}"


L = []
w = L.append
w(f"# sipline perf report — {machine.get('date', '')}")
w("")
w(f"- Machine: **{machine.get('cpu_model', '?')}**, **{machine.get('cores', '?')} cores**"
  f"{' (' + machine['hypervisor'] + ' guest)' if machine.get('hypervisor') else ''}, "
  f"{machine.get('os', '')}, kernel {machine.get('kernel', '')}")
w(f"- Software: DPDK {machine.get('dpdk', '?')}, {machine.get('kamailio') or 'Kamailio not installed'}")
w(f"- Run: {'--quick' if params.get('quick') else 'full'}; {params.get('reps')} repetitions per figure "
  f"(median); ramp steps of {params.get('step_s')} s after {params.get('warmup_s')} s warm-up; "
  f"equal-load runs of {params.get('load_s')} s after a {params.get('load_warmup_s')} s warm-up run; "
  f"hold {params.get('hold_ms')} ms; T1 500 ms; a call fails after {params.get('call_timeout_ms')} ms "
  f"without a final answer; a rate passes with ≤ {params.get('max_fail_pct')} % failed calls.")
w(f"- Cores: generator on CPU {params.get('gen_cpu')}, system under test on CPU {params.get('sut_cpu')}.")
la0, la1 = machine.get("loadavg_start"), machine.get("loadavg_end")
psi = machine.get("cpu_pressure_pct_before")
if psi is not None and psi >= 0:
    w(f"- CPU pressure in the minute before the suite started: a runnable task waited for a CPU "
      f"{psi:.0f} % of the time (/proc/pressure/cpu) — other work on the machine.")
if la0 is not None:
    busy = max(la0, la1 or 0) > 1.5 or (psi or 0) > 30
    w(f"- Load average at start {la0:.1f}, at end {la1 if la1 is not None else float('nan'):.1f}"
      + (" — **the machine was busy with other work during the run: absolute figures are noisy; "
         "ratios taken in the same run hold better**" if busy else "") + ".")
w("")
w("## Summary")
w("")
w("| figure | value | how |")
w("|---|---|---|")
rows = [
    ("sipline max calls/s per core", summary["sipline_max_cps_per_core"], "", "memif, generator in DPDK mode, ramp"),
    ("sipline CPU µs per call", summary["sipline_cpu_us_per_call"], " µs",
     f"worker busy cycles / tsc_hz / calls ({summary['sipline_cpu_us_per_call_source'] or '—'})"),
    ("sipline CPU µs per call, preemption taken out", summary["sipline_cpu_us_per_call_oncpu"], " µs",
     "busy cycles × share of the time its worker was on a CPU (schedstat)"),
    ("sipline p99 INVITE→200", summary["sipline_p99_invite_to_200_us"], " µs",
     f"at {fmt(memif_rate, 0) if memif_rate else fmt(headline_rate, 0)} calls/s"),
    ("Kamailio max calls/s (1 core)", summary["kamailio_max_cps"], "", "kernel UDP on loopback, ramp"),
    ("Kamailio CPU µs per call", summary["kamailio_cpu_us_per_call"], " µs",
     f"user+system of all its processes, at {fmt(headline_rate, 0)} calls/s"),
    ("Kamailio p99 INVITE→200", summary["kamailio_p99_invite_to_200_us"], " µs", f"at {fmt(headline_rate, 0)} calls/s"),
    ("sipline via TAP max calls/s", summary["sipline_tap_max_cps"], "", "kernel-socket generator through the TAP port"),
    ("sipline via TAP CPU µs per call", summary["sipline_tap_cpu_us_per_call"], " µs",
     f"busy cycles at {fmt(headline_rate, 0)} calls/s (includes TAP read/write system calls)"),
    ("Kamailio / sipline CPU per call", summary["kamailio_to_sipline_cpu_ratio"], "×", ""),
    ("sipline / Kamailio max calls/s", summary["sipline_to_kamailio_max_cps_ratio"], "×", ""),
    ("generator max calls/s (kernel mode, loopback relay)", summary["gen_kernel_max_cps"], "", "one core"),
    ("generator CPU µs per call (kernel mode)", summary["gen_kernel_cpu_us_per_call"], " µs", "thread user+system"),
    ("generator CPU µs per call (DPDK mode)", summary["gen_dpdk_cpu_us_per_call"], " µs", "busy loop turns"),
    ("generator max calls/s without I/O", summary["gen_null_max_cps"], "", "--mode null: UAC and UAS wired together"),
    ("generator µs per call without I/O", summary["gen_null_cpu_us_per_call"], " µs", "its own parse/build/state/timers"),
]
for name, v, unit, how in rows:
    w(f"| {name} | {fmt(v, 2 if unit.strip() in ('µs', '×') else 0, unit)} | {how} |")
w("")

w("## Max calls/s (ramp: ×2 until a step fails, then bisection; median of the runs)")
w("")
w("| system | runs (calls/s) | median |")
w("|---|---|---|")
for name, label in SYSTEMS:
    r = sysres[name]
    runs = ", ".join(("≥" if gen_bound(x) else "") + fmt(x["max_cps"], 0) for x in r["ramps"]) or "—"
    w(f"| {label} | {runs} | {fmt(r['max_cps'], 0)} |")
if gen:
    w(f"| sipline-gen against its loopback relay | {fmt(gen.get('max_cps'), 0)} | {fmt(gen.get('max_cps'), 0)} |")
if gen_null:
    w(f"| sipline-gen without I/O (`--mode null`) | {fmt(gen_null.get('max_cps'), 0)} | {fmt(gen_null.get('max_cps'), 0)} |")
w("")
if any(sysres[n]["gen_bound_runs"] for n, _ in SYSTEMS):
    w("≥: the next rate failed only because the generator fell behind its pacer (it did not get the CPU "
      "it needed), so that run's max is a lower bound of the system's.")
    w("")

if common:
    w("## Side by side at equal offered load")
    w("")
    w("| calls/s | system | achieved | failed % | CPU µs/call | (preemption out) | p50 INVITE→200 µs | "
      "p99 INVITE→200 µs | p99 BYE→200 µs | retransmissions | generator µs/call |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for rate in common:
        for s in ("kamailio", "sipline-tap"):
            f_ = sysres[s]["loads"].get(rate)
            if not f_:
                w(f"| {rate} | {s} | — | — | — | — | — | — | — | — | — |")
                continue
            w(f"| {rate} | {s} | {fmt(f_['achieved_cps'])} | {fmt(f_['failed_pct'], 3)} | "
              f"{fmt(f_['cpu_us_per_call'], 2)} | {fmt(f_['cpu_us_per_call_oncpu'], 2)} | "
              f"{fmt(f_['p50_invite_to_200_us'])} | "
              f"{fmt(f_['p99_invite_to_200_us'])} | {fmt(f_['p99_bye_to_200_us'])} | "
              f"{fmt(f_['retransmissions'])} | {fmt(f_['gen_cpu_us_per_call'], 2)} |")
    w("")
if memif_rate:
    f_ = sysres["sipline-memif"]["loads"][memif_rate]
    frac = params.get("memif_load_fraction", 0.5)
    w(f"sipline via memif at {memif_rate} calls/s ({frac:.0%} of its max): CPU {fmt(f_['cpu_us_per_call'], 2)} µs/call "
      f"({fmt(f_['cpu_us_per_call_oncpu'], 2)} with preemption taken out), "
      f"p50/p99 INVITE→200 {fmt(f_['p50_invite_to_200_us'])}/{fmt(f_['p99_invite_to_200_us'])} µs, "
      f"failed {fmt(f_['failed_pct'], 3)} %.")
    w("")

w("## Micro benchmarks (sipline-bench SUB --json)")
w("")
for sub in ("parse", "timer", "txn", "proxy"):
    d = micro.get(sub)
    if not d:
        w(f"- `{sub}`: not measured — {not_measured.get('bench_' + sub, 'not run')}")
        continue
    nums = [(k, v) for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    w(f"- `{sub}`: " + ", ".join(f"{k} {v:g}" for k, v in nums[:14]) + (" …" if len(nums) > 14 else ""))
w("")

if plots:
    w("## Plots")
    w("")
    for title, base in plots:
        w(f"### {title}")
        w("")
        w(f"![{title}]({base}.png) ([SVG]({base}.svg))")
        w("")

# Resource exhaustion seen in sipline's own counters: the figures above
# then measure the pool size, not the code path.
findings = []
for name in ("sipline-tap", "sipline-memif"):
    st = load(os.path.join(RAW, f"{name}-final-stats.json"))
    t = (st or {}).get("totals", {})
    nomb = t.get("drop_no_mbuf", 0) + t.get("net_drop_no_mbuf", 0)
    if nomb:
        findings.append(
            f"- {name}: **ran out of mbufs** ({nomb:,} drops for want of an mbuf; "
            f"{t.get('mbufs_in_use', 0):,} in use at the end, "
            f"{t.get('txn_live', 0):,} live transactions). Server transactions keep their mbufs until "
            f"Timer J/L (64·T1 = 32 s), so a sustained rate needs about that many mbufs per second "
            f"of calls; steps shorter than 32 s measure a burst, not a steady state.")
    for k, v in t.items():
        if not k.startswith("drop_") or k == "drop_no_mbuf" or not v:
            continue
        # CRLF keep-alives (RFC 5626) the DPDK generator sends while it
        # resolves the proxy's MAC count as empty datagrams: not a finding.
        if k == "drop_sip_drop" and t.get("sip_drop empty datagram", 0) == v:
            continue
        findings.append(f"- {name}: `{k}` = {v:,}")
for name, pre in PREEMPT.items():
    c = med(pre)
    if c is not None and c > 0.05:
        findings.append(
            f"- {name}: its worker waited for a CPU {c:.0%} of the measured runs' time (run-queue wait in "
            f"/proc/.../schedstat: other tasks on its core); busy cycles include the part of that which fell "
            f"in busy turns, so the \"preemption out\" figure is the better one here.")
if params.get("quick") and any(sysres[n]["ramps"] for n in ("sipline-tap", "sipline-memif")):
    findings.append(
        f"- --quick settles {params.get('ramp_settle_s')} s after a failing ramp step, less than the 32 s "
        "sipline keeps server transactions (and their mbufs): steps right after an overloaded one can fail "
        "for the leftovers, which makes sipline's quick max a lower bound (Kamailio keeps its transactions "
        "5 s). The full run settles 34 s.")
if findings:
    w("## Findings")
    w("")
    L.extend(findings)
    w("")

w("## Not measured")
w("")
if not_measured:
    seen = {}
    for k, v in not_measured.items():
        seen.setdefault(v, []).append(k)
    for reason, keys in seen.items():
        w(f"- {', '.join('`' + k + '`' for k in keys)}: {reason}")
else:
    w("Everything was measured.")
w("")
w("## How it was measured")
w("")
w("- One generator, `sipline-gen`, drives every system with the same flows: INVITE → 100 → 180 → 200 → ACK, "
  "hold, BYE → 200, through a record-routing proxy (ACK and BYE along the Record-Route set to the callee's "
  "Contact), UDP retransmissions per RFC 3261 when answers are late. The generator plays both the callers "
  "and the callees, so the proxy sits between its two sides.")
w("- Same machine, same flows, same failure threshold and call timeout for every system; warm-up excluded "
  "(ramp steps have a warm-up period; equal-load runs follow an unmeasured warm-up run); each figure is the "
  "median of the repetitions.")
w("- Max calls/s: the highest offered rate at which at most 0.1 % of calls failed (timeouts, non-2xx "
  "answers, calls the in-flight cap refused) and the generator kept pace (a step where the pacer fell "
  "behind by more than 1 % does not pass).")
w("- CPU per call: Kamailio — user+system time of all its processes (/proc/PID/stat) over the measured run; "
  "sipline — busy cycles of its worker (`siplinectl --json stats`) over the run / tsc_hz; both divided "
  "by the calls completed. Kamailio's figure includes its kernel socket work; sipline's via TAP includes "
  "the TAP PMD's read/write system calls, via memif only its own work.")
w("- Core budget: Kamailio's processes are pinned to one core (children=1); sipline runs one worker lcore. "
  "The generator has the other core.")
w("")
with open(os.path.join(OUT, "report.md"), "w") as f:
    f.write("\n".join(L))
print(os.path.join(OUT, "report.md"))
