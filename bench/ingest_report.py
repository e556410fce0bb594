#!/usr/bin/python3
"""Turns bench/run_ingest.sh's results.jsonl into a Markdown table, mailsim beside Postfix.

Usage: ingest_report.py results.jsonl
Ratio = mailsim msg/s ÷ Postfix msg/s (acknowledged, i.e. 250 replies per second) in the
same run; the goal column applies issue 2 §6: ≥ 3× at 1 KiB (stretch 5×), ≥ 2× at 100 KiB.
"""
import json
import sys


def goal(body_bytes, ratio):
    if ratio is None:
        return "n/a"
    if body_bytes <= 1024:
        if ratio >= 5:
            return "met (stretch 5× too)"
        return "met (3×)" if ratio >= 3 else "MISSED (3×)"
    return "met (2×)" if ratio >= 2 else "MISSED (2×)"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    cases = {}
    for r in rows:
        cases.setdefault((r["body_bytes"], r["connections"]), {})[r["server"]] = r
    print("| body | conns | mailsim msg/s | mailsim MB/s | mailsim DATA→250 p50 / p99 ms "
          "| Postfix msg/s | Postfix MB/s | Postfix DATA→250 p50 / p99 ms | ratio | goal "
          "| Maildir files = 250s | Postfix delivered when load stopped, drain |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for (size, conns), by in sorted(cases.items()):
        m, p = by.get("mailsim"), by.get("postfix")

        def cell(r, key, fmt="{:.0f}"):
            return fmt.format(r[key]) if r else "–"

        def lat(r):
            return f"{r['data_to_250_p50_ms']:.2f} / {r['data_to_250_p99_ms']:.2f}" if r else "–"

        ratio = m["msg_per_s"] / p["msg_per_s"] if m and p and p["msg_per_s"] > 0 else None
        checks = []
        for name, r in (("mailsim", m), ("Postfix", p)):
            if r:
                ok = "=" if r["delivered"] == r["accepted"] else "≠"
                errs = r["refused"] + r["io_errors"]
                checks.append(f"{name} {r['delivered']} {ok} {r['accepted']}"
                              + (f", {errs} errors" if errs else ""))
        drain = (f"{p['delivered_when_load_stopped']} of {p['accepted']}, {p['drain_s']} s"
                 if p and "drain_s" in p else "–")
        body = f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"
        print(f"| {body} | {conns} | {cell(m, 'msg_per_s')} | {cell(m, 'mb_per_s', '{:.2f}')} | {lat(m)} "
              f"| {cell(p, 'msg_per_s')} | {cell(p, 'mb_per_s', '{:.2f}')} | {lat(p)} "
              f"| {'–' if ratio is None else f'{ratio:.2f}×'} | {goal(size, ratio)} "
              f"| {'; '.join(checks)} | {drain} |")

    print()
    print("| body | conns | server | machine busy before run (others) | busy during run "
          "| server CPU s | server CPU µs/msg | load generator CPU s | file create probe µs |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (r["body_bytes"], r["connections"], r["server"])):
        size = r["body_bytes"]
        body = f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"
        scpu = r.get("server_cpu_s")
        per = f"{1e6 * scpu / r['accepted']:.0f}" if scpu is not None and r["accepted"] else "–"
        print(f"| {body} | {r['connections']} | {r['server']} | {r.get('background_busy_pct', '–')}% "
              f"| {r.get('busy_pct', '–')}% | {'–' if scpu is None else f'{scpu:.2f}'} | {per} "
              f"| {r.get('client_cpu_s', 0):.2f} | {r.get('create_probe_us', '–')} |")


if __name__ == "__main__":
    main()
