#!/usr/bin/env python3
"""Writes tests/data/results/sweep/, a SYNTHETIC results folder for the report tests.

No harness run on this machine has swept value sizes yet, so this folder is made up:
the case structure is the real heavy-load case (heavy-load/summary.json), the matrix is
io_threads {1, 4} x value_size {1 KiB, 64 KiB, 1 MiB, 16 MiB}, the throughput and
latency figures are invented (shaped like a sweep, not measured), and every case's
cpu.csv rows are the real heavy-load rows (first 20 samples, bio_* threads left out
to keep the fixture small). One case name and one
message carry <, >, & and quotes so the tests can check the HTML escaping.
"""
import copy, csv, io, json, os

here = os.path.dirname(os.path.abspath(__file__))
source = json.load(open(os.path.join(here, "heavy-load", "summary.json")))
template = source["cases"][0]
out_dir = os.path.join(here, "sweep")
os.makedirs(out_dir, exist_ok=True)

sizes = [1024, 65536, 1048576, 16777216]
cases = []
for io_threads in (1, 4):
    for index, size in enumerate(sizes):
        one = copy.deepcopy(template)
        name = f"value-size-sweep/server.io_threads={io_threads},client.value_size={size}"
        one["name"] = name
        p = one["parameters"]
        p["name"] = name
        p["scenario"] = "value-size-sweep"
        p["matrix"] = {"server.io_threads": str(io_threads), "client.value_size": str(size)}
        p["server"]["io_threads"] = io_threads
        p["client"]["value_size"] = {"kind": "fixed", "bytes": [size]}
        rps = (9000 if io_threads == 4 else 6000) / (1 + index * index * 1.5)
        one["throughput"] = {"requests_per_second": round(rps, 1),
                             "value_bytes_per_second": round(rps * size / 2, 1)}
        base = 400 * (4 ** index) / (1.5 if io_threads == 4 else 1)
        one["latency_us"] = {"p50": base, "p90": base * 2.1, "p99": base * 4.3,
                             "p99.9": base * 9.0, "max": base * 15.0}
        cases.append(one)

# A known bug at 16 MiB with one IO thread, with text that must be escaped in HTML.
known = cases[3]
known["name"] = known["name"] + ' <"big">&co'
known["verdict"] = "stall"
known["outcome"] = "KNOWN"
known["message"] = "STALL <known bug #2893> & \"expected\" (1 of 1)"
known["evidence"] = {"verdict": "stall", "onset_s": 4.2, "detected_s": 9.3, "threads": [],
                     "connections": [], "wedged_connections": 1, "probe": "answered",
                     "server": "running", "verify_mismatches": 0}

summary = dict(source)
summary["scenario"] = "value-size-sweep"
summary["folder"] = "sweep"
summary["cases"] = cases
with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")

rows = list(csv.reader(open(os.path.join(here, "heavy-load", "cpu.csv"))))
header, body = rows[0], rows[1:]
times = sorted({r[0] for r in body}, key=float)[:20]
with open(os.path.join(out_dir, "cpu.csv"), "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    for one in cases:
        for r in body:
            if r[0] in times and not r[2].startswith("bio_"):
                writer.writerow(r[:4] + [one["name"]])
