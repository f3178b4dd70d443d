"""Throughput and memory of HB-Net vs ResNet and AGD-Net vs DenseNet at equal depth.

Forward + backward of one batch of 64 CIFAR-shaped images (3x32x32, cross-entropy), measured in
one run so that the ratios share the machine's load: the two members of a pair alternate
(A B A B ...); the median time per step gives ``images_per_s`` and the fastest step
``images_per_s_best`` (the least disturbed by other processes on a shared machine); on CPU
``images_per_cpu_s`` divides by this process's CPU time (one torch thread), which other
processes on a shared machine disturb far less than wall time. Memory is measured two ways:

* ``saved_MB``: bytes of the distinct tensors autograd keeps for the backward pass (the
  activation memory that dominates the peak; deterministic, via ``saved_tensors_hooks``);
* ``peak_rss_MB``: the peak resident memory of a fresh child process that builds the model and
  runs the same steps (everything: weights, gradients, allocator slack, the interpreter);
* on a GPU, ``torch.cuda.max_memory_allocated``.

Targets (issue 12): HB-Net >= 0.9x ResNet's throughput, AGD-Net >= 0.8x DenseNet's, memory
within 1.2x. Usage::

    PYTHONPATH=src python benchmarks/bench_optnets.py [--reps 5] [--threads 1] [--device cpu]
        [--pairs resnet56:hbnet56 densenet40:agdnet40] [--out benchmarks/optnets.csv]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from glassnet.registry import create_model

TARGET_SPEED = {"hbnet": 0.9, "agdnet": 0.8}
TARGET_MEM = 1.2


def _step(model, x, y):
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()


def saved_bytes(model, x, y) -> int:
    """Bytes of distinct storages saved for backward during one forward pass."""
    seen: dict[int, int] = {}

    def pack(t):
        try:
            st = t.untyped_storage()
            seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        except RuntimeError:
            pass
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), y)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    del loss
    return sum(v for k, v in seen.items() if k not in params)


def _child(name, batch, reps, threads, device):
    """Peak RSS (and CUDA peak) of a fresh process running ``reps`` steps."""
    code = (
        "import json,resource,torch,torch.nn.functional as F\n"
        "from glassnet.registry import create_model\n"
        f"torch.set_num_threads({threads}); torch.manual_seed(0)\n"
        f"m=create_model({name!r},num_classes=10).to({device!r})\n"
        f"x=torch.randn({batch},3,32,32,device={device!r}); y=torch.randint(0,10,({batch},),device={device!r})\n"
        f"for _ in range({reps}):\n"
        "    m.zero_grad(set_to_none=True); F.cross_entropy(m(x),y).backward()\n"
        "cuda=torch.cuda.max_memory_allocated()/2**20 if torch.cuda.is_available() else float('nan')\n"
        "print(json.dumps({'rss':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,'cuda':cuda}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_pair(base, variant, batch=64, reps=5, threads=1, device="cpu"):
    torch.manual_seed(0)
    models = {n: create_model(n, num_classes=10).to(device) for n in (base, variant)}
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    times = {n: [] for n in models}
    cpu = {n: [] for n in models}
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for m in models.values():  # warm-up
        _step(m, x, y)
    for _ in range(reps):
        for n, m in models.items():
            sync()
            t0, c0 = time.perf_counter(), time.process_time()
            _step(m, x, y)
            sync()
            times[n].append(time.perf_counter() - t0)
            cpu[n].append(time.process_time() - c0)
    rows = []
    for n, m in models.items():
        child = _child(n, batch, 2, threads, device)
        rows.append({
            "model": n, "device": device, "batch": batch,
            "params": sum(p.numel() for p in m.parameters()),
            "images_per_s": batch / statistics.median(times[n]),
            "images_per_s_best": batch / min(times[n]),  # least disturbed by other load
            # CPU time of this process (one torch thread): what the model costs, whatever
            # else the machine runs
            "images_per_cpu_s": batch / statistics.median(cpu[n]),
            "saved_MB": saved_bytes(m, x, y) / 2**20,
            "peak_rss_MB": child["rss"], "cuda_peak_MB": child["cuda"],
        })
    b, v = rows
    kind = "hbnet" if variant.startswith("hbnet") else "agdnet"
    ratio = {
        "pair": f"{variant}/{base}", "device": device,
        "speed_ratio": v["images_per_s"] / b["images_per_s"],
        "speed_ratio_best": v["images_per_s_best"] / b["images_per_s_best"],
        "cpu_speed_ratio": v["images_per_cpu_s"] / b["images_per_cpu_s"],
        "speed_target": TARGET_SPEED[kind],
        "saved_mem_ratio": v["saved_MB"] / b["saved_MB"],
        "rss_ratio": v["peak_rss_MB"] / b["peak_rss_MB"], "mem_target": TARGET_MEM,
    }
    if device.startswith("cuda"):
        ratio["cuda_mem_ratio"] = v["cuda_peak_MB"] / b["cuda_peak_MB"]
    ratio["meets_targets"] = bool(ratio["speed_ratio"] >= ratio["speed_target"]
                                  and ratio["saved_mem_ratio"] <= TARGET_MEM
                                  and ratio["rss_ratio"] <= TARGET_MEM)
    return rows, ratio


def main(argv=None):
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", nargs="*", default=["resnet56:hbnet56", "resnet110:hbnet110",
                                                  "densenet40:agdnet40"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default="benchmarks/optnets.csv")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    load0 = os.getloadavg()
    all_rows, ratios = [], []
    for pair in a.pairs:
        base, variant = pair.split(":")
        rows, ratio = bench_pair(base, variant, a.batch, a.reps, a.threads, a.device)
        all_rows += rows
        ratios.append(ratio)
        print(json.dumps(ratio), flush=True)
    load1 = os.getloadavg()
    df, rf = pd.DataFrame(all_rows), pd.DataFrame(ratios)
    df.to_csv(a.out, index=False)
    rf.to_csv(a.out.replace(".csv", "_ratios.csv"), index=False)
    print(df.to_markdown(index=False, floatfmt=".3g"))
    print()
    print(rf.to_markdown(index=False, floatfmt=".3g"))
    print(f"\n{os.cpu_count()} CPUs, {a.threads} torch thread(s); load average before "
          f"{load0[0]:.1f}, after {load1[0]:.1f}; peak RSS of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
