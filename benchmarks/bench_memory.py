"""Peak training memory and throughput against depth: ResNet, HB-Net, invertible HB-Net (issue 28).

Each configuration (model, depth 20 / 56 / 110, batch 64 of CIFAR-shaped 3x32x32 images, SGD
with cross-entropy) runs in a fresh child process, so that its peak resident memory is its own:

* ``base_rss_MB``: the child's RSS after importing torch, building the model and the batch
  (before any training step);
* ``peak_rss_MB``: its peak RSS (``VmHWM``, reset to the base before training) over ``--steps``
  training steps (forward, backward, SGD step);
* ``train_MB = peak_rss_MB - base_rss_MB``: the memory that training itself needs;
* ``live_peak_MB`` / ``live_train_MB``: the same from a second child (one step) with glibc's
  mmap threshold fixed at 128 KiB (:data:`FIXED_MALLOC`), where freed activations go back to the
  system at once, so that the peak follows the live tensors and not the allocator's retention;
* ``images_per_cpu_s_no_trim``: CPU-time throughput of a third child whose glibc never trims the
  heap (:data:`NO_TRIM_MALLOC`): the invertible net's per-block recomputation frees and
  reallocates its activations, which under the default settings are returned to the system
  and faulted in again (3-4x the page faults of ResNet per step);
* ``saved_MB`` (parent process, deterministic): bytes autograd keeps for the backward pass of one
  forward (``saved_tensors_hooks``; parameters excluded);
* ``images_per_s`` / ``images_per_cpu_s``: batch / median wall time (CPU time) of a step after a
  warm-up step. The configurations of one depth alternate over ``--rounds`` rounds (A B C B C A
  ...), so that the ratios share the machine's load; CPU time of the single torch thread is
  disturbed far less than wall time by other processes on a shared machine.

Targets (issue 28): invertible HB-Net-110's peak training memory <= 0.6x ResNet-110's, throughput
>= 0.7x. Also written: the inversion drift (how far the backward recursion lands from the true
input, float32 / float64) for HB-Net's beta_2 = -1 and momentumnet-style small momenta, and the
fit time of the estimators with ``device="cpu"`` and ``device="auto"``.

``--part speed`` (``memory_speed.md``): throughput of ResNet and invertible HB-Net at depth
``--speed-depth`` over ``--speed-rounds`` rounds of fresh processes, with page faults per step,
and ``--baseline LABEL=FILE`` to time other copies of ``invertible.py`` (an older commit's) side
by side; ``--part speed1`` (``memory_speed_same_process.md``): the same in one process;
``--part relu`` (``memory_relu.md``): HB-Net-20 with and without the ReLU after the momentum
addition on fake-CIFAR random labels.

    PYTHONPATH=src python benchmarks/bench_memory.py
        [--part all|memory|speed|speed1|relu|estimators] [--depths 20 56 110] [--steps 3]
        [--rounds 2] [--speed-rounds 6] [--baseline LABEL=FILE ...] [--threads 1]
        [--out benchmarks/memory]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

CONFIGS = {"resnet": ("resnet{d}", {}), "hbnet": ("hbnet{d}", {}),
           "hbnet-inv": ("hbnet{d}", {"invertible": True})}
TARGET_MEM, TARGET_SPEED = 0.6, 0.7


def _status_mb(key: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) of this process in MiB. Not ``ru_maxrss``: Linux
    carries that over from the parent across fork + exec."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak() -> None:
    """Make VmHWM restart from the current RSS (Linux >= 4.0: ``5`` to ``clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def child(spec: dict) -> dict:
    """Runs in a fresh process: build, measure the base RSS, train ``steps`` steps."""
    import resource

    from glassnet.registry import create_model

    if spec.get("impl"):  # time another copy of invertible.py (e.g. an older commit's)
        import importlib.util

        import glassnet.nn.optnets.invertible as current

        mod_spec = importlib.util.spec_from_file_location("_invertible_impl", spec["impl"])
        impl = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(impl)
        current.invertible_heavy_ball = impl.invertible_heavy_ball  # looked up at each forward
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model = create_model(spec["name"], num_classes=10, **spec["kwargs"]).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(spec["batch"], 3, 32, 32)
    y = torch.randint(0, 10, (spec["batch"],))
    base = _status_mb("VmRSS")
    _reset_peak()  # the peak from here on is the training's
    wall, cpu, faults = [], [], []
    for _ in range(spec["steps"] + 1):  # the first step warms up
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {"base_rss_MB": base, "peak_rss_MB": _status_mb("VmHWM"), "wall": wall[1:],
            "cpu": cpu[1:], "faults": faults[1:]}


# glibc's default mmap threshold adapts upwards once large blocks are freed, after which freed
# activations stay in the heap and count in RSS; a fixed threshold returns every block of
# >= 128 KiB to the system on free, so the peak RSS follows the live tensors
FIXED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}
# the opposite tuning: large blocks come from the heap and the heap is never trimmed, so memory
# freed by one block's recomputation is reused by the next instead of being faulted in again
NO_TRIM_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "67108864", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def run_child(spec: dict, extra_env: dict | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               OMP_NUM_THREADS=str(spec["threads"]), MKL_NUM_THREADS=str(spec["threads"]),
               **(extra_env or {}))
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                       text=True, env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"child {spec} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def saved_mb(name: str, kwargs: dict, batch: int) -> float:
    from glassnet.registry import create_model

    torch.manual_seed(0)
    model = create_model(name, num_classes=10, **kwargs).train()
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    seen: dict[int, int] = {}

    def pack(t):
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), y)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    del loss
    return sum(v for k, v in seen.items() if k not in params) / 2**20


def bench_depths(depths, batch, steps, rounds, threads):
    rows, ratios = [], []
    for d in depths:
        runs = {k: [] for k in CONFIGS}
        for r in range(rounds):
            order = list(CONFIGS) if r % 2 == 0 else list(reversed(CONFIGS))
            for key in order:
                name, kw = CONFIGS[key]
                spec = {"name": name.format(d=d), "kwargs": kw, "batch": batch, "steps": steps,
                        "threads": threads}
                res = run_child(spec)
                live = run_child(dict(spec, steps=1), FIXED_MALLOC)
                res["live_base_MB"], res["live_peak_MB"] = live["base_rss_MB"], live["peak_rss_MB"]
                res["cpu_no_trim"] = run_child(spec, NO_TRIM_MALLOC)["cpu"]
                runs[key].append(res)
                print(f"  depth {d} {key} round {r}: peak {res['peak_rss_MB']:.0f} MB "
                      f"(fixed malloc {res['live_peak_MB']:.0f} MB), step "
                      f"{statistics.median(res['cpu']):.2f} CPU s", flush=True)
        by = {}
        for key, res in runs.items():
            name, kw = CONFIGS[key]
            wall = [t for x in res for t in x["wall"]]
            cpu = [t for x in res for t in x["cpu"]]
            row = {"model": key, "depth": d, "batch": batch, "threads": threads,
                   "base_rss_MB": statistics.median(x["base_rss_MB"] for x in res),
                   "peak_rss_MB": statistics.median(x["peak_rss_MB"] for x in res),
                   "live_peak_MB": statistics.median(x["live_peak_MB"] for x in res),
                   "live_train_MB": statistics.median(x["live_peak_MB"] - x["live_base_MB"]
                                                      for x in res),
                   "saved_MB": saved_mb(name.format(d=d), kw, batch),
                   "images_per_s": batch / statistics.median(wall),
                   "images_per_cpu_s": batch / statistics.median(cpu),
                   "images_per_cpu_s_no_trim": batch / statistics.median(
                       t for x in res for t in x["cpu_no_trim"]),
                   "steps_timed": len(wall)}
            row["train_MB"] = row["peak_rss_MB"] - row["base_rss_MB"]
            rows.append(row)
            by[key] = row
        for key in ("hbnet", "hbnet-inv"):
            v, b = by[key], by["resnet"]
            ratios.append({
                "pair": f"{key}{d}/resnet{d}", "depth": d,
                "peak_rss_ratio": v["peak_rss_MB"] / b["peak_rss_MB"],
                "train_mem_ratio": v["train_MB"] / b["train_MB"],
                "live_peak_ratio": v["live_peak_MB"] / b["live_peak_MB"],
                "live_train_ratio": v["live_train_MB"] / b["live_train_MB"],
                "saved_ratio": v["saved_MB"] / b["saved_MB"],
                "speed_ratio": v["images_per_s"] / b["images_per_s"],
                "cpu_speed_ratio": v["images_per_cpu_s"] / b["images_per_cpu_s"],
                "cpu_speed_ratio_no_trim": (v["images_per_cpu_s_no_trim"]
                                            / b["images_per_cpu_s_no_trim"]),
            })
    return rows, ratios


def bench_speed(depth, batch, steps, rounds, threads, baselines=()):
    """Throughput of ResNet and invertible HB-Net (and, for each ``(label, file)`` of
    ``baselines``, the invertible net under that copy of ``invertible.py``), each round one fresh process per configuration in
    alternating order; per step: CPU time, wall time, minor page faults. Ratios are taken of
    the medians over all steps and, for the spread, of each round's medians."""
    configs = {"resnet": (f"resnet{depth}", {}, None),
               "hbnet-inv": (f"hbnet{depth}", {"invertible": True}, None)}
    for label, path in baselines:
        configs[f"hbnet-inv ({label})"] = (f"hbnet{depth}", {"invertible": True}, path)
    runs = {k: [] for k in configs}
    for r in range(rounds):
        order = list(configs) if r % 2 == 0 else list(reversed(configs))
        for key in order:
            name, kw, impl = configs[key]
            runs[key].append(run_child({"name": name, "kwargs": kw, "batch": batch, "steps": steps,
                                        "threads": threads, "impl": impl}))
        print(f"  speed round {r}: " + ", ".join(
            f"{k} {statistics.median(runs[k][-1]['cpu']):.2f} CPU s" for k in configs), flush=True)
    med = {k: {m: statistics.median(t for x in res for t in x[m]) for m in ("cpu", "wall", "faults")}
           for k, res in runs.items()}
    rows = []
    for key in configs:
        per_round = [statistics.median(b["cpu"]) / statistics.median(v["cpu"])
                     for v, b in zip(runs[key], runs["resnet"])]
        per_round_wall = [statistics.median(b["wall"]) / statistics.median(v["wall"])
                          for v, b in zip(runs[key], runs["resnet"])]
        rows.append({"model": key, "depth": depth, "batch": batch, "threads": threads,
                     "steps_timed": sum(len(x["cpu"]) for x in runs[key]),
                     "cpu_s_per_step": med[key]["cpu"], "wall_s_per_step": med[key]["wall"],
                     "page_faults_per_step": med[key]["faults"],
                     "peak_rss_MB": statistics.median(x["peak_rss_MB"] for x in runs[key]),
                     "cpu_speed_ratio": med["resnet"]["cpu"] / med[key]["cpu"],
                     "wall_speed_ratio": med["resnet"]["wall"] / med[key]["wall"],
                     "cpu_ratio_rounds_min": min(per_round), "cpu_ratio_rounds_max": max(per_round),
                     "wall_ratio_rounds_min": min(per_round_wall),
                     "wall_ratio_rounds_max": max(per_round_wall)})
    return rows


def bench_speed_same_process(depth, batch, reps, threads, baselines=()):
    """The same comparison inside one process: the models are built once and their training
    steps alternate (A B C C B A ...) after a warm-up step each. All share
    one heap, so this shows the compute of each backward pass without the allocator's page
    faults of a fresh process (ResNet's big heap is reused by the invertible net)."""
    import importlib.util
    import resource

    import glassnet.nn.optnets.invertible as current
    from glassnet.registry import create_model

    torch.set_num_threads(threads)
    impls = {"hbnet-inv": current.invertible_heavy_ball}
    for label, path in baselines:
        mod_spec = importlib.util.spec_from_file_location(f"_impl_{len(impls)}", path)
        mod = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(mod)
        impls[f"hbnet-inv ({label})"] = mod.invertible_heavy_ball
    torch.manual_seed(0)
    keys = ["resnet", *impls]
    models = {k: create_model(f"resnet{depth}" if k == "resnet" else f"hbnet{depth}",
                              num_classes=10, invertible=k != "resnet").train() for k in keys}
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for k, m in models.items()}
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    fn0 = current.invertible_heavy_ball

    def step(k):
        current.invertible_heavy_ball = impls.get(k, fn0)  # looked up at each forward
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0, c0 = time.perf_counter(), time.process_time()
        opts[k].zero_grad(set_to_none=True)
        F.cross_entropy(models[k](x), y).backward()
        opts[k].step()
        return (time.perf_counter() - t0, time.process_time() - c0,
                resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)

    try:
        for k in keys:
            step(k)
        times = {k: [] for k in keys}
        for r in range(reps):
            for k in (keys if r % 2 == 0 else keys[::-1]):
                times[k].append(step(k))
    finally:
        current.invertible_heavy_ball = fn0
    med = {k: [statistics.median(t[i] for t in v) for i in range(3)] for k, v in times.items()}
    return [{"model": k, "depth": depth, "batch": batch, "threads": threads, "steps_timed": reps,
             "cpu_s_per_step": med[k][1], "wall_s_per_step": med[k][0],
             "page_faults_per_step": med[k][2],
             "cpu_speed_ratio": med["resnet"][1] / med[k][1],
             "wall_speed_ratio": med["resnet"][0] / med[k][0]} for k in keys]


def relu_comparison(seeds=(1, 2, 3), steps=200, batch=32, n=256, lr=0.05):
    """HB-Net-20 (ReLU after each momentum addition) against invertible HB-Net-20 (no ReLU
    there: another function) from the same initial weights and the same batches: SGD (momentum
    0.9, ``lr`` fixed in advance, nothing tuned) on ``n`` fake-CIFAR images (uniform random
    pixels scaled to [0, 1], random labels of 10 classes, as the test suite's fake CIFAR), so the
    loss measures how fast each net fits (memorises) the data, not test accuracy."""
    from glassnet.registry import create_model

    rows = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        X = torch.randint(0, 256, (n, 3, 32, 32), generator=g).float() / 255
        y = torch.randint(0, 10, (n,), generator=g)
        order = [torch.randperm(n, generator=g)[:batch] for _ in range(steps)]
        torch.manual_seed(seed)
        init = create_model("hbnet20", num_classes=10).state_dict()
        for label, kw in (("hbnet20 (ReLU after the add)", {}),
                          ("hbnet20 invertible (no ReLU)", {"invertible": True})):
            model = create_model("hbnet20", num_classes=10, **kw)
            model.load_state_dict(init)
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            losses = []
            for idx in order:
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
                losses.append(loss.item())
            model.eval()
            with torch.no_grad():
                out = model(X)
            rows.append({"seed": seed, "model": label, "steps": steps,
                         "first_loss": losses[0],
                         "train_loss_last20": float(np.mean(losses[-20:])),
                         "eval_loss_all": float(F.cross_entropy(out, y)),
                         "eval_acc_all": float((out.argmax(1) == y).float().mean())})
            print(f"  relu seed {seed} {label}: last-20 loss {rows[-1]['train_loss_last20']:.3f}",
                  flush=True)
    return rows


def inversion_drift(depth=17, batch=8):
    """Reconstruction error of one 16-channel stage of ``depth`` momentum blocks at init:
    HB-Net's beta = (1, -1), and momentumnet's x_{k+1} = (1 + g) x_k - g x_{k-1} + (1 - g) f(x_k)
    (beta = (1 + g, -g), T = (1 - g) f) for decreasing momentum g."""
    from torch import nn

    from glassnet.nn.optnets import OptStructure
    from glassnet.nn.optnets.invertible import reconstruction_error
    from glassnet.nn.optnets.resnets import _Branch

    class Scaled(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.f, self.c = _Branch(16, 16), c

        def forward(self, x):
            return self.c * self.f(x)

    out = []
    cases = [("hbnet (1, -1)", (1.0, -1.0), 1.0)] + [
        (f"momentumnet gamma={g}", (1.0 + g, -g), 1.0 - g) for g in (0.9, 0.5, 0.2, 0.1)]
    for label, beta, scale in cases:
        torch.manual_seed(0)
        st = OptStructure([Scaled(scale) for _ in range(depth)], "hb", beta=beta,
                          invertible=True).train()
        x0 = torch.relu(torch.randn(batch, 16, 32, 32))
        e32 = reconstruction_error(st, x0)
        e64 = reconstruction_error(st.double(), x0.double())
        out.append({"structure": label, "blocks": depth, "beta_1": beta[0], "beta_2": beta[1],
                    "rel_error_float32": e32, "rel_error_float64": e64})
    return out


def bench_estimators(reps=2):
    """Fit time with device='cpu' and device='auto' (alternating, same data and seed)."""
    import glassnet

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 64))
    y = (X[:, :4].sum(1) + 0.5 * rng.standard_normal(2000) > 0).astype(int)
    Xs = np.hstack([X, rng.standard_normal((2000, 136))])  # p = 200 for the selection net
    cases = [
        ("MatNetClassifier", glassnet.MatNetClassifier,
         {"input_shape": (8, 8), "lam": 1e-3, "max_epochs": 10, "random_state": 0}, X),
        ("IRLSADMMNetClassifier", glassnet.IRLSADMMNetClassifier,
         {"max_epochs": 20, "random_state": 0}, Xs[:500]),
        ("SPINNClassifier", getattr(glassnet, "SPINNClassifier", None),
         {"max_epochs": 20, "n_path": 3, "random_state": 0}, X[:500]),
        ("DSRLClassifier", getattr(glassnet, "DSRLClassifier", None),
         {"max_epochs": 5, "random_state": 0}, X[:500]),
    ]
    rows = []
    for name, cls, params, data in cases:
        target = y[: data.shape[0]]
        try:
            cls(device="cpu", **params)
        except (TypeError, ImportError, AttributeError) as err:
            rows.append({"estimator": name, "n": data.shape[0], "p": data.shape[1],
                         "note": f"no device parameter yet ({type(err).__name__})"})
            continue
        times = {"cpu": [], "auto": []}
        devices = {}
        try:
            for _ in range(reps):
                for dev in ("cpu", "auto"):
                    t0 = time.perf_counter()
                    est = cls(device=dev, **params).fit(data, target)
                    times[dev].append(time.perf_counter() - t0)
                    devices[dev] = getattr(est, "device_", "not recorded")
        except Exception as err:  # noqa: BLE001 - a family under change: say so, time the rest
            rows.append({"estimator": name, "n": data.shape[0], "p": data.shape[1],
                         "note": f"fit failed: {type(err).__name__}: {err}"[:120]})
            continue
        rows.append({"estimator": name, "n": data.shape[0], "p": data.shape[1],
                     "fit_s_cpu": min(times["cpu"]), "fit_s_auto": min(times["auto"]),
                     "auto_ran_on": devices["auto"], "note": ""})
    return rows


def _write_md(path: str, lines: list[str]) -> None:
    with open(path, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))


def main(argv=None):
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--part", choices=("all", "memory", "speed", "speed1", "relu", "estimators"),
                   default="all")
    p.add_argument("--speed-depth", type=int, default=110)
    p.add_argument("--speed-rounds", type=int, default=6)
    p.add_argument("--baseline", nargs="*", default=[], metavar="LABEL=FILE",
                   help="--part speed: other copies of invertible.py to time as 'hbnet-inv "
                        "(LABEL)', e.g. `git show REV:src/glassnet/nn/optnets/invertible.py`")
    p.add_argument("--depths", type=int, nargs="*", default=[20, 56, 110])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/memory")
    a = p.parse_args(argv)
    if a.child is not None:
        print(json.dumps(child(json.loads(a.child))))
        return
    torch.set_num_threads(a.threads)
    cuda = torch.cuda.is_available()
    where = f"{os.cpu_count()} CPUs{' with CUDA' if cuda else ', no GPU'}"
    if a.part in ("all", "memory"):
        load0 = os.getloadavg()
        rows, ratios = bench_depths(a.depths, a.batch, a.steps, a.rounds, a.threads)
        drift = inversion_drift()
        load1 = os.getloadavg()
        df, rf, dfd = pd.DataFrame(rows), pd.DataFrame(ratios), pd.DataFrame(drift)
        df.to_csv(f"{a.out}.csv", index=False)
        rf.to_csv(f"{a.out}_ratios.csv", index=False)
        dfd.to_csv(f"{a.out}_inversion_drift.csv", index=False)
        _write_md(f"{a.out}.md", [
            "# Training memory against depth: ResNet, HB-Net, invertible HB-Net (issue 28)", "",
            (f"Generated by `benchmarks/bench_memory.py` on {where}; {a.threads} torch "
             f"thread(s), batch {a.batch} of 3x32x32, {a.steps} timed steps x {a.rounds} rounds "
             f"per configuration, each in a fresh process; load average {load0[0]:.1f} before, "
             f"{load1[0]:.1f} after."), "",
            df.to_markdown(index=False, floatfmt=".4g"), "",
            (f"Ratios to ResNet at the same depth (targets for hbnet-inv: peak memory <= "
             f"{TARGET_MEM}, throughput >= {TARGET_SPEED}):"), "",
            rf.to_markdown(index=False, floatfmt=".3g"), "",
            ("Inversion drift, one 16-channel stage of 17 blocks at initialisation "
             "(max |x_0' - x_0| / max |x_0|):"), "",
            dfd.to_markdown(index=False, floatfmt=".3g"), ""])
    if a.part in ("all", "speed"):
        load0 = os.getloadavg()
        sf = pd.DataFrame(bench_speed(a.speed_depth, a.batch, a.steps, a.speed_rounds, a.threads,
                                      [b.split("=", 1) for b in a.baseline]))
        load1 = os.getloadavg()
        sf.to_csv(f"{a.out}_speed.csv", index=False)
        base = (" Rows `hbnet-inv (LABEL)`: the invertible net under another copy of "
                "`invertible.py` (`--baseline LABEL=FILE`)." if a.baseline else "")
        _write_md(f"{a.out}_speed.md", [
            "# Training throughput, ResNet vs invertible HB-Net (issue 28)", "",
            (f"Generated by `benchmarks/bench_memory.py --part speed` on {where}; {a.threads} "
             f"torch thread(s), depth {a.speed_depth}, batch {a.batch} of 3x32x32, SGD; "
             f"{a.speed_rounds} rounds, each one fresh process per model in alternating order "
             f"with a warm-up step and {a.steps} timed steps; load average {load0[0]:.1f} "
             f"before, {load1[0]:.1f} after (1 min), {load0[1]:.1f} / {load1[1]:.1f} (5 min)."
             f"{base} Ratios are ResNet's median time per step over the model's "
             f"(target for hbnet-inv: >= {TARGET_SPEED}); the rounds' min/max show the spread."),
            "",
            sf.to_markdown(index=False, floatfmt=".3g"), ""])
    if a.part in ("all", "speed1"):
        load0 = os.getloadavg()
        bl = [b.split("=", 1) for b in a.baseline]
        s1 = pd.DataFrame(bench_speed_same_process(a.speed_depth, a.batch, a.speed_rounds * a.steps,
                                                   a.threads, bl))
        load1 = os.getloadavg()
        s1.to_csv(f"{a.out}_speed_same_process.csv", index=False)
        _write_md(f"{a.out}_speed_same_process.md", [
            "# Training throughput in one process, ResNet vs invertible HB-Net (issue 28)", "",
            (f"Generated by `benchmarks/bench_memory.py --part speed1` on {where}; {a.threads} "
             f"torch thread(s), depth {a.speed_depth}, batch {a.batch}; "
             f"{a.speed_rounds * a.steps} alternating steps per model; load average "
             f"{load0[0]:.1f} before, {load1[0]:.1f} after (1 min). "
             + " ".join(bench_speed_same_process.__doc__.split())
             + (" Rows `hbnet-inv (LABEL)`: another copy of `invertible.py` "
                "(`--baseline LABEL=FILE`)." if bl else "")), "",
            s1.to_markdown(index=False, floatfmt=".3g"), ""])
    if a.part in ("all", "relu"):
        load0 = os.getloadavg()
        qf = pd.DataFrame(relu_comparison())
        qf.to_csv(f"{a.out}_relu.csv", index=False)
        mean = qf.groupby("model", sort=False)[["train_loss_last20", "eval_loss_all",
                                               "eval_acc_all"]].mean().reset_index()
        _write_md(f"{a.out}_relu.md", [
            "# HB-Net-20 with and without the ReLU after the momentum addition (issue 28)", "",
            (f"Generated by `benchmarks/bench_memory.py --part relu` on {where} (load "
             f"{load0[0]:.1f}). " + " ".join(relu_comparison.__doc__.split())), "",
            ("Seeds 1, 2, 3 (nothing was tuned; lr 0.05 and 200 steps of batch 32 were fixed "
             "before running):"), "",
            qf.to_markdown(index=False, floatfmt=".3g"), "", "Mean over the seeds:", "",
            mean.to_markdown(index=False, floatfmt=".3g"), ""])
    if a.part in ("all", "estimators"):
        ef = pd.DataFrame(bench_estimators())
        ef.to_csv(f"{a.out}_estimators.csv", index=False)
        _write_md(f"{a.out}_estimators.md", [
            "# Estimator fit time, `device=\"cpu\"` vs `device=\"auto\"` (issue 28)", "",
            (f"Generated by `benchmarks/bench_memory.py --part estimators` on {where} (best of "
             "2, alternating)" + ("." if cuda else "; with no GPU, \"auto\" is the CPU too, so "
                                 "the two columns time the same work.")), "",
            ef.to_markdown(index=False, floatfmt=".3g"), ""])


if __name__ == "__main__":
    main()
