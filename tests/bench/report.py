#!/usr/bin/env python3
"""Turns one run of tests/bench/run-all into a table, CSV, JSON and PNG plots.

    report.py --out DIR [--host host.json]... [--guest GUEST_RESULTS_DIR] [--note TEXT]...

Writes DIR/table.txt (also printed), DIR/results.csv (one row per measured
figure), DIR/ratios.csv (each ratio with its comparison and target),
DIR/results.json (all of it) and DIR/*.png (gnuplot, pngcairo). Every ratio
compares two figures of the same run. Targets are reported, never enforced:
a benchmark does not fail on speed.
"""
import argparse
import csv
import glob
import json
import os
import re
import subprocess

GUEST_CONFIGS = ["switch", "file", "fileio", "switch-zc"]
GUEST_WORKLOADS = [("randread", "4k"), ("randwrite", "4k"), ("read", "256k"), ("write", "256k")]
TRANSPORTS = [("loop", "tcm_loop"), ("iscsi", "iSCSI 127.0.0.1")]
HOST_TARGET = 0.9    # core IOPS / fio IOPS
FILE_TARGET = 1.5    # user:switch / user:file at 4 KiB in the guest
ZC_TARGET = 2.5      # zero copy / copy at 256 KiB writes


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def fmt(value, spec="%.2f"):
    return "-" if value is None else spec % value


# ---- host ---------------------------------------------------------------------

def backing(doc):
    """Where a host run's path files were: RAM (tmpfs) or the host's disk."""
    return "ram" if doc["dir"].startswith("/dev/shm") else "disk"


def host_figures(doc):
    figures, ratios = [], []
    for r in doc["rows"]:
        label = "%s %dk, %d thr, %s" % (r["rw"], r["bs"] // 1024, r["workers"], backing(doc))
        for who in ("core", "fio"):
            f = r[who]
            figures.append({"section": "host", "config": who, "transport": backing(doc), "rw": r["rw"],
                            "bs_kib": r["bs"] // 1024, "threads": r["workers"], "qd": r["qd"],
                            "iops": f["iops"], "mb_per_s": f["mb_per_s"], "cpu_us_per_io": f["cpu_us_per_io"],
                            "allocs_per_io": f.get("allocations_per_io"), "load": r["load_before"]})
        ratios.append({"section": "host", "what": "core/fio IOPS", "case": label,
                       "value": r["core_over_fio_iops"], "target": HOST_TARGET, "load": r["load_before"]})
    return figures, ratios


def host_table(doc):
    rows = doc["rows"]
    direct = "O_DIRECT" if rows and rows[0]["core"]["direct"] else "buffered"
    out = ["Host: core data path (SwitchDevice, %d paths, %d-sector regions, io_uring engine) vs fio io_uring"
           % (doc["nr_paths"], doc["region_sectors"]),
           "on the same files in %s (%s, %s), %g s per run, total QD %d; kernel %s, %d CPUs, %s"
           % (doc["dir"], backing(doc), direct, doc["seconds"], rows[0]["qd"] if rows else 0, doc["kernel"], doc["nproc"],
              doc["fio_version"]),
           "thr = core I/O workers = fio numjobs (fio iodepth = QD / thr); the core also has one submitter thread.",
           "", "%-10s %5s %3s | %9s %8s %8s %5s %7s %8s %7s | %9s %8s %8s %5s %7s | %8s %8s | %5s" % (
               "workload", "bs", "thr", "core IOPS", "MB/s", "CPUus/IO", "cores", "allocs", "allocs/IO", "slp/IO",
               "fio IOPS", "MB/s", "CPUus/IO", "cores", "ctx/IO", "core/fio", "CPU c/f", "load") + "  rounds: core/fio"]
    for r in rows:
        c, f = r["core"], r["fio"]
        mark = "ok" if (r["core_over_fio_iops"] or 0) >= HOST_TARGET else "!!"
        out.append("%-10s %4dk %3d | %9.0f %8.1f %8.2f %5.2f %7d %8.4f %7.2f | %9.0f %8.1f %8.2f %5.2f %7.2f | %5.2f %-2s %8.2f | %5.1f" % (
            r["rw"], r["bs"] // 1024, r["workers"], c["iops"], c["mb_per_s"], c["cpu_us_per_io"], c["cpu_cores"],
            c["allocations"], c["allocations_per_io"], c["sleeps_per_io"], f["iops"], f["mb_per_s"],
            f["cpu_us_per_io"], f["cpu_cores"], f["ctx_per_io"], r["core_over_fio_iops"], mark,
            r["core_over_fio_cpu_per_io"], r["load_before"]) + "  " + " ".join("%.2f" % x for x in r["round_ratios"]))
    out.append("Each side: the median of %d rounds (core and fio alternate); core/fio target >= %.1f (ok / !! = below); CPU c/f = core CPU per I/O over fio's; cores = CPU time / wall time; "
               "slp/IO = voluntary context switches per command (core), ctx/IO = fio's context switches per I/O."
               % (rows[0]["rounds"] if rows else 0, HOST_TARGET))
    return out


# ---- guest --------------------------------------------------------------------

def load_guest(directory):
    runs = {}
    for path in glob.glob(os.path.join(directory, "fio-*_*_*_*.json")):
        m = re.match(r"fio-(\w+?)_([\w-]+?)_(\w+?)_(\w+)\.json$", os.path.basename(path))
        if not m:
            continue
        job = json.load(open(path))["jobs"][0]
        data = job["read"] if m.group(3).endswith("read") else job["write"]
        runs[m.groups()] = {"iops": round(data["iops"], 1), "mb_per_s": round(data["bw_bytes"] / 1e6, 2),
                            "clat_ms": round(data["clat_ns"]["mean"] / 1e6, 2), "error": job["error"]}
    return runs


def guest_value(run, bs):
    """The figure a workload is judged by: IOPS at 4 KiB, MB/s at 256 KiB."""
    if run is None:
        return None
    return run["iops"] if bs == "4k" else run["mb_per_s"]


def guest_figures(runs):
    figures, ratios = [], []
    for (transport, config, rw, bs), run in sorted(runs.items()):
        figures.append({"section": "guest", "config": config, "transport": transport, "rw": rw,
                        "bs_kib": int(bs[:-1]), "threads": 1, "qd": None, "iops": run["iops"],
                        "mb_per_s": run["mb_per_s"], "cpu_us_per_io": None, "allocs_per_io": None, "load": None})
    for transport, _ in TRANSPORTS:
        for rw, bs in GUEST_WORKLOADS:
            get = lambda c: guest_value(runs.get((transport, c, rw, bs)), bs)
            case = "%s %s %s" % (transport, rw, bs)
            sw = get("switch")
            ratios.append({"section": "guest", "what": "switch/file", "case": case, "value": ratio(sw, get("file")),
                           "target": FILE_TARGET if bs == "4k" else None, "load": None})
            ratios.append({"section": "guest", "what": "switch/fileio", "case": case,
                           "value": ratio(sw, get("fileio")), "target": None, "load": None})
            if get("switch-zc") is not None:
                ratios.append({"section": "guest", "what": "ZC/copy", "case": case, "value": ratio(get("switch-zc"), sw),
                               "target": ZC_TARGET if (rw, bs) == ("write", "256k") else None, "load": None})
    return figures, [r for r in ratios if r["value"] is not None]


def guest_table(runs, env_lines):
    have_zc = any(k[1] == "switch-zc" for k in runs)
    configs = GUEST_CONFIGS if have_zc else GUEST_CONFIGS[:3]
    out = ["Guest: QEMU TCG (emulated: only ratios within this run mean anything)"] + env_lines + [""]
    head = "%-6s %-14s %-5s |" % ("via", "workload", "unit") + "".join(" %9s" % c for c in configs)
    head += " | %11s %13s" % ("switch/file", "switch/fileio") + (" %8s" % "ZC/copy" if have_zc else "")
    out.append(head)
    for transport, _ in TRANSPORTS:
        for rw, bs in GUEST_WORKLOADS:
            values = {c: guest_value(runs.get((transport, c, rw, bs)), bs) for c in configs}
            line = "%-6s %-14s %-5s |" % (transport, rw + " " + bs, "IOPS" if bs == "4k" else "MB/s")
            line += "".join(" %9s" % fmt(values[c], "%.1f") for c in configs)
            sf = ratio(values["switch"], values["file"])
            mark = "" if bs != "4k" or sf is None else (" ok" if sf >= FILE_TARGET else " !!")
            line += " | %8s%-3s %13s" % (fmt(sf), mark, fmt(ratio(values["switch"], values["fileio"])))
            if have_zc:
                zc = ratio(values["switch-zc"], values["switch"])
                zmark = " ok" if (rw, bs) == ("write", "256k") and zc and zc >= ZC_TARGET else (
                    " !!" if (rw, bs) == ("write", "256k") else "")
                line += " %5s%-3s" % (fmt(zc), zmark)
            out.append(line)
    out.append("targets: switch/file >= %.1f at 4 KiB%s (ok / !! = below)" % (
        FILE_TARGET, "; ZC/copy >= %.1f at 256 KiB writes" % ZC_TARGET if have_zc else
        "; ZC on/off: not measured (this kernel has no kmod-patches zero copy)"))
    return out


# ---- plots --------------------------------------------------------------------

def y_axis(logscale, hline):
    if logscale:
        return "set logscale y"
    # Autoscale, but leave room above a target line so that it shows.
    return "set yrange [0:%g<*]" % (hline * 1.2) if hline is not None else "set yrange [0:*]"


def gnuplot(out_dir, name, data_rows, columns, ylabel, title, logscale=False, hline=None):
    """A clustered bar chart: data_rows = [(label, [value per column])]."""
    dat = os.path.join(out_dir, name + ".dat")
    with open(dat, "w") as f:
        for label, values in data_rows:
            f.write('"%s" %s\n' % (label, " ".join("NaN" if v is None else repr(v) for v in values)))
    plots = ", ".join("'%s' using %d%s title '%s'" % (dat, i + 2, ":xtic(1)" if i == 0 else "", c)
                      for i, c in enumerate(columns))
    if hline is not None:
        plots += ", %g with lines dashtype 2 lc rgb 'red' title 'target %g'" % (hline, hline)
    script = "\n".join([
        "set terminal pngcairo size 1100,520 noenhanced font ',10'",
        "set output '%s'" % os.path.join(out_dir, name + ".png"),
        "set title '%s'" % title, "set ylabel '%s'" % ylabel,
        "set style data histograms", "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1", "set boxwidth 0.9", "set grid ytics",
        "set xtics rotate by -25", "set key outside right top", y_axis(logscale, hline),
        "plot " + plots, ""])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(dat)
    return name + ".png"


def host_plots(out_dir, doc):
    rows, where = doc["rows"], backing(doc)
    labels = ["%s %dk %dthr" % (r["rw"], r["bs"] // 1024, r["workers"]) for r in rows]
    return [
        gnuplot(out_dir, "host_throughput_" + where,
                [(l, [r["core"]["mb_per_s"], r["fio"]["mb_per_s"]]) for l, r in zip(labels, rows)],
                ["core (SwitchDevice)", "fio io_uring"], "MB/s (log)",
                "Host (%s): core data path vs fio, same files and depth" % where, logscale=True),
        gnuplot(out_dir, "host_ratio_" + where, [(l, [r["core_over_fio_iops"]]) for l, r in zip(labels, rows)],
                ["core/fio"], "core / fio (throughput)", "Host (%s): core over fio" % where, hline=HOST_TARGET),
    ]


def guest_plots(out_dir, runs):
    configs = [c for c in GUEST_CONFIGS if any(k[1] == c for k in runs)]
    made = []
    for bs, unit in (("4k", "IOPS"), ("256k", "MB/s")):
        rows = [("%s %s" % (t, rw), [guest_value(runs.get((t, c, rw, bs)), bs) for c in configs])
                for t, _ in TRANSPORTS for rw, b in GUEST_WORKLOADS if b == bs]
        made.append(gnuplot(out_dir, "guest_%s" % bs, rows, configs, unit,
                            "Guest (QEMU TCG, one run): %s, QD16" % bs))
    pairs = [("switch/file", "switch", "file"), ("switch/fileio", "switch", "fileio")]
    if "switch-zc" in configs:
        pairs.append(("ZC/copy", "switch-zc", "switch"))
    rows = [("%s %s %s" % (t, rw, bs), [ratio(guest_value(runs.get((t, a, rw, bs)), bs),
                                              guest_value(runs.get((t, b, rw, bs)), bs)) for _, a, b in pairs])
            for t, _ in TRANSPORTS for rw, bs in GUEST_WORKLOADS]
    made.append(gnuplot(out_dir, "guest_ratio", rows, [p[0] for p in pairs], "ratio",
                        "Guest ratios (target line: switch/file at 4 KiB)", hline=FILE_TARGET))
    return made


# ---- output -------------------------------------------------------------------

def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--host", action="append", default=[], help="a host_bench.py JSON (once per backing)")
    p.add_argument("--guest")
    p.add_argument("--note", action="append", default=[], help="a line for the table's header")
    args = p.parse_args()

    table, figures, ratios, plots = list(args.note), [], [], []
    for host in filter(os.path.exists, args.host):
        doc = json.load(open(host))
        f, r = host_figures(doc)
        figures += f
        ratios += r
        table += [""] + host_table(doc)
        plots += host_plots(args.out, doc)
    runs = load_guest(args.guest) if args.guest and os.path.isdir(args.guest) else {}
    if runs:
        env = os.path.join(args.guest, "bench-env.txt")
        env_lines = open(env).read().splitlines() if os.path.exists(env) else []
        f, r = guest_figures(runs)
        figures += f
        ratios += r
        table += [""] + guest_table(runs, env_lines)
        plots += guest_plots(args.out, runs)
    elif args.guest:
        table += ["", "Guest: no results in %s (see guest/serial.log)" % args.guest]
    table += ["", "plots: " + (", ".join(plots) or "none")]

    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write("\n".join(table) + "\n")
    write_csv(os.path.join(args.out, "results.csv"), figures,
              ["section", "config", "transport", "rw", "bs_kib", "threads", "qd", "iops", "mb_per_s",
               "cpu_us_per_io", "allocs_per_io", "load"])
    write_csv(os.path.join(args.out, "ratios.csv"), ratios, ["section", "what", "case", "value", "target", "load"])
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"notes": args.note, "figures": figures, "ratios": ratios, "plots": plots}, f, indent=1)
    print("\n".join(table))


if __name__ == "__main__":
    main()
