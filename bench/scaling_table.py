#!/usr/bin/env python3
"""bench/scaling's tables from scaling_bench's RESULT lines
("RESULT scaling_<model>_p<processes>_<figure> <value> <unit>", several rounds).

The projection's model, for one process per node (a node: this machine, both
cores), each node keeping the seed's batch (weak scaling):
- compute per step t_c(b) = b / r, with r the samples/s one process reached
  here at the seed's batch;
- ring all-reduce of S bytes over p nodes (NCCL's and Open MPI's algorithm
  for large buffers): t_ar = 2 (p-1)/p * S / bandwidth + 2 (p-1) * latency,
  latency 25 us per message on 10 Gbit/s Ethernet (TCP), 3 us on 100 Gbit/s
  (RDMA); no overlap with the backward pass (fit all-reduces after it);
- efficiency = t_c / (t_c + t_ar): communication dominates below the batch
  per node b_50 = t_ar * r, and efficiency reaches 80% from b_80 = 4 t_ar r.
"""
import collections
import math
import re
import statistics
import sys

figures = collections.defaultdict(list)
for line in open(sys.argv[1]):
    match = re.match(r"RESULT scaling_(\w+)_p(\d+)_(batch|gradient_bytes|step|all_reduce) (\S+)", line)
    if match:
        model, processes, figure, value = match.groups()
        figures[(model, int(processes), figure)].append(float(value))

def get(model, processes, figure):
    values = figures.get((model, processes, figure))
    return statistics.median(values) if values else math.nan

models = [m for m in ["mlp", "cnn", "fashion_cnn", "cifar_cnn", "lstm_addition"] if (m, 1, "step") in figures]
names = {"mlp": "seed 001 MLP 784-250-10", "cnn": "seed 003 CNN", "fashion_cnn": "seed 001 Fashion CNN (BN)",
         "cifar_cnn": "seed 004 CIFAR-10 CNN", "lstm_addition": "LSTM adder (seed 002)"}

print("Measured here (one machine, 2 cores):\n")
print("| model | gradient (all-reduce per step, per process) | global batch | step, 1 process x 2 threads |"
      " step, 2 processes x 1 thread | all-reduce, 2 processes | its share of the step | speed-up |")
print("|---|---|---|---|---|---|---|---|")
for m in models:
    size = get(m, 1, "gradient_bytes")
    one, two, reduce = get(m, 1, "step"), get(m, 2, "step"), get(m, 2, "all_reduce")
    print(f"| {names[m]} | {size / 1e6:.2f} MB | {get(m, 1, 'batch'):.0f} | {one:.2f} ms | {two:.2f} ms |"
          f" {reduce:.3f} ms | {reduce / two:.1%} | {one / two:.2f}x |")

networks = [("10 Gbit/s", 10e9 / 8, 25e-6), ("100 Gbit/s", 100e9 / 8, 3e-6)]
print("\nProjected, one process per node, each node at the seed's batch (model: bench/scaling_table.py):\n")
print("| model | nodes | network | all-reduce | efficiency at the seed's batch per node |"
      " communication dominates below (batch per node) | batch per node for 80% |")
print("|---|---|---|---|---|---|---|")
for m in models:
    size, batch = get(m, 1, "gradient_bytes"), get(m, 1, "batch")
    rate = batch / (get(m, 1, "step") / 1e3)
    for nodes in (8, 64):
        for network, bandwidth, latency in networks:
            t_ar = 2 * (nodes - 1) / nodes * size / bandwidth + 2 * (nodes - 1) * latency
            t_c = batch / rate
            print(f"| {names[m]} | {nodes} | {network} | {t_ar * 1e3:.2f} ms | {t_c / (t_c + t_ar):.0%} |"
                  f" {math.ceil(t_ar * rate)} | {math.ceil(4 * t_ar * rate)} |")
