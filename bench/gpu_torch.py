#!/usr/bin/env python3
"""PyTorch's side of bench/gpu: the workloads of gpu_bench.cpp, same models,
batch sizes, optimizers and synthetic data, printed as RESULT lines.

    gpu_torch.py --config eager|graphs [--smoke]

eager  : cuDNN with torch.backends.cudnn.benchmark = True, one launch per op.
graphs : PyTorch's best for these small static models: the whole training
         step (forward, loss, backward, optimizer step with capturable
         optimizers) and the batch-1 forward captured once with
         torch.cuda.graphs and replayed.
On a machine without CUDA (the --smoke run of bench/gpu) eager runs on the
CPU and graphs says it is not available; --smoke runs two steps per figure.
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.output = nn.Linear(784, 250), nn.Linear(250, 10)

    def forward(self, x):
        return self.output(F.dropout(torch.tanh(self.hidden(x)), 0.5, self.training))


class SeedCnn(nn.Module):
    """Seed 003: Gaussian noise 0.1, Conv 45 5x5 ReLU, pool, Conv 60 5x5 ReLU, pool, Dense 10."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Conv2d(1, 45, 5), nn.Conv2d(45, 60, 5)
        self.output = nn.Linear(60 * 4 * 4, 10)

    def forward(self, x):
        if self.training:
            x = x + 0.1 * torch.randn_like(x)
        x = F.max_pool2d(F.relu(self.first(x)), 2)
        x = F.max_pool2d(F.relu(self.second(x)), 2)
        return self.output(x.flatten(1))


class CifarCnn(nn.Module):
    """Seed 004: Conv 32/64/128 5x5 pad 2, each ReLU and a 2x2 pool, Dense 64 ReLU, Dense 10."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, 32, 5, padding=2), nn.Conv2d(32, 64, 5, padding=2),
                                    nn.Conv2d(64, 128, 5, padding=2)])
        self.hidden, self.output = nn.Linear(128 * 4 * 4, 64), nn.Linear(64, 10)

    def forward(self, x):
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.output(F.relu(self.hidden(x.flatten(1))))


class Adder(nn.Module):
    """examples/lstm_addition.cpp: LSTM 128 over 7 one-hot characters, its last
    state repeated 3 times into a decoder LSTM 128, Dense 12 per step."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(12, 128, batch_first=True)
        self.decoder = nn.LSTM(128, 128, batch_first=True)
        self.output = nn.Linear(128, 12)

    def forward(self, x):
        _, (h, _) = self.encoder(x)
        y, _ = self.decoder(h[-1].unsqueeze(1).expand(-1, 3, -1))
        return self.output(y)


def rmsprop(params, capturable):
    return torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7, **capturable)


def adam(params, capturable):
    return torch.optim.Adam(params, lr=1e-3, eps=1e-7, **capturable)


def synthetic(shape, batch, labels_per_sample, classes, one_hot, device):
    generator = torch.Generator().manual_seed(7)
    if one_hot:
        x = F.one_hot(torch.randint(0, shape[-1], (batch, *shape[:-1]), generator=generator),
                      shape[-1]).float()
    else:
        x = torch.rand((batch, *shape), generator=generator)
    y = torch.randint(0, classes, (batch, labels_per_sample) if labels_per_sample > 1 else (batch,),
                      generator=generator)
    return x.to(device), y.to(device)


def cross_entropy(logits, labels):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_seconds(run, repeats):
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(key, value, unit):
    print(f"RESULT {key} {value:.6g} {unit}", flush=True)


def captured(work):
    """work() captured with torch.cuda.graphs after a warm-up on a side stream
    (as PyTorch's documentation does it): the graph, and what work() returned
    inside it (its static output)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            work()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        result = work()
    return graph, result


def train_step_function(model, optimizer, x, y, config):
    """One training step as a callable: eager, or replaying a captured graph."""
    def step():
        optimizer.zero_grad(set_to_none=False)
        cross_entropy(model(x), y).backward()
        optimizer.step()

    if config == "eager":
        return step
    graph, _ = captured(step)
    return graph.replay


def train(key, model_type, make_optimizer, shape, batch, labels_per_sample, classes, one_hot,
          steps, args, device):
    torch.manual_seed(1)
    model = model_type().to(device).train()
    capturable = {"capturable": True} if args.config == "graphs" else {}
    optimizer = make_optimizer(model.parameters(), capturable)
    x, y = synthetic(shape, batch, labels_per_sample, classes, one_hot, device)
    step = train_step_function(model, optimizer, x, y, args.config)

    def run():
        for _ in range(steps):
            step()
        synchronize(device)

    report(key, batch * steps / median_seconds(run, args.repeats), "samples/s")


def infer(key, model_type, shape, calls, args, device):
    """Batch-1 latency from a host input to a host output, as gpu_bench times it."""
    torch.manual_seed(1)
    model = model_type().to(device).eval()
    host_in = torch.rand((1, *shape))
    host_out = torch.empty((1, 10))
    if device.type == "cuda":
        host_in, host_out = host_in.pin_memory(), host_out.pin_memory()
    static_in = host_in.to(device)

    def forward():
        with torch.no_grad():
            return torch.softmax(model(static_in), 1)

    if args.config == "eager":
        def call():
            static_in.copy_(host_in, non_blocking=True)
            host_out.copy_(forward())
            synchronize(device)
    else:
        graph, static_out = captured(forward)

        def call():
            static_in.copy_(host_in, non_blocking=True)
            graph.replay()
            host_out.copy_(static_out)
            synchronize(device)

    def run():
        for _ in range(calls):
            call()

    report(key, median_seconds(run, args.repeats) / calls * 1e6, "us")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=["eager", "graphs"], default="eager")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    args.repeats = 1 if args.smoke else 5
    steps = (lambda full: 2) if args.smoke else (lambda full: full)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.config == "graphs" and device.type != "cuda":
        print("CONFIG torch_graphs: not available: CUDA graphs need a CUDA device", flush=True)
        return 0
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"CONFIG torch_{args.config}: PyTorch {torch.__version__} on {name}"
          f" (cuDNN {torch.backends.cudnn.version()})", flush=True)

    workloads = [
        ("cnn_train_b128", lambda key: train(key, SeedCnn, rmsprop, (1, 28, 28), 128, 1, 10, False,
                                             steps(50), args, device)),
        ("cifar_cnn_train_b64", lambda key: train(key, CifarCnn, rmsprop, (3, 32, 32), 64, 1, 10, False,
                                                  steps(50), args, device)),
        ("lstm_addition_train_b512", lambda key: train(key, Adder, adam, (7, 12), 512, 3, 12, True,
                                                       steps(50), args, device)),
        ("mlp_train_b512", lambda key: train(key, Mlp, rmsprop, (784,), 512, 1, 10, False, steps(200),
                                             args, device)),
        ("mlp_infer_b1", lambda key: infer(key, Mlp, (784,), steps(2000), args, device)),
        ("cnn_infer_b1", lambda key: infer(key, SeedCnn, (1, 28, 28), steps(2000), args, device)),
    ]
    failed = 0
    for key, run in workloads:
        try:
            run(key)
        except Exception as error:  # one workload's failure (a capture PyTorch refuses) is a note
            print(f"CONFIG torch_{args.config}: {key} failed: {type(error).__name__}: {error}".replace("\n", " "),
                  flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
