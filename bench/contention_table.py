#!/usr/bin/env python3
"""bench/contention's table from its result lines: "<batch> <column> alone <rate>
<percent of steps on one thread, or ->" and "<batch> <column> together <rate> <rate>";
the column names follow the file."""
import statistics
import sys

rows = [line.split() for line in open(sys.argv[1])]
names = sys.argv[2:]
print("| program | batch | alone, samples/s | alone, one thread | two at once, each | kept |")
print("|---|---|---|---|---|---|")
for batch in sorted({r[0] for r in rows}, key=int):
    for index, name in enumerate(names):
        mine = [r for r in rows if r[0] == batch and r[1] == str(index)]
        alone = [float(r[3]) for r in mine if r[2] == "alone"]
        pairs = [(float(r[3]), float(r[4])) for r in mine if r[2] == "together"]
        if not alone or not pairs:
            print(f"| {name} | {batch} | not run | | | |")
            continue
        rate = statistics.median(alone)
        shares = [float(r[4]) for r in mine if r[2] == "alone" and r[4] != "-"]
        one_thread = f"{statistics.median(shares):.1f}% of steps" if shares else "-"
        first = statistics.median(p[0] for p in pairs)
        second = statistics.median(p[1] for p in pairs)
        slower = statistics.median(min(p) for p in pairs)
        print(f"| {name} | {batch} | {rate:,.0f} | {one_thread} | {first:,.0f} and {second:,.0f} | {slower / rate:.0%} |")
