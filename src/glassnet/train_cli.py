"""``glassnet train MODEL --dataset cifar10|cifar100 --data-dir D``: image training with the
one loop (:func:`glassnet.training.fit`).

The defaults are the paper's recipe (Li et al. Sec. 7.1, after DenseNet): SGD with Nesterov
momentum 0.9, weight decay 1e-4, batch 64, 300 epochs, learning rate 0.1 divided by 10 at 50%
and 75% of training, zero-padding-4 random crops and horizontal flips, per-channel
normalisation. It writes ``run.json`` (the model, dataset and ``--invertible``: ``--resume``
refuses a checkpoint another model wrote), ``metrics.csv`` (one row per epoch),
``checkpoint.pt`` (resumable with ``--resume``), ``model.safetensors`` and ``summary.json``
under ``--out``.

Runs unchanged under ``torchrun --nproc_per_node=N -m glassnet.cli train ...``: each process
gets a ``DistributedSampler`` shard of batch ``--batch-size / N`` and the model is wrapped in
``DistributedDataParallel`` (backend ``nccl`` on GPUs, ``gloo`` on CPU).

Memory and speed: ``--amp`` (bfloat16 autocast on CPU or CUDA; ``--amp fp16``: float16 with a
grad scaler, CUDA only), ``--channels-last`` (NHWC convolutions), ``--invertible`` (HB-Net
models only: the momentum blocks are trained without storing activations, see docs/optnets.md).
Every option is checked before data are read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

__all__ = ["add_parser", "run_train"]


def add_parser(sub) -> argparse.ArgumentParser:
    t = sub.add_parser("train", help="train a registered image model on CIFAR-10/100 (DDP-ready)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("model", help="registered model name (glassnet list), e.g. hbnet56, agdnet40")
    t.add_argument("--dataset", choices=("cifar10", "cifar100"), default="cifar10")
    t.add_argument("--data-dir", default=None,
                   help="folder holding cifar-10-batches-py/ or cifar-100-python/ (default $GLASSNET_DATA)")
    t.add_argument("--epochs", type=int, default=300)
    t.add_argument("--batch-size", type=int, default=64, help="global batch (split over processes)")
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--no-nesterov", action="store_true")
    t.add_argument("--weight-decay", type=float, default=1e-4)
    t.add_argument("--milestones", type=float, nargs="*", default=[0.5, 0.75],
                   help="lr / 10 at these fractions of training (or epochs if >= 1)")
    t.add_argument("--no-augment", action="store_true", help="no crop/flip (the paper's C10/C100)")
    t.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    t.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1, mps")
    t.add_argument("--amp", nargs="?", const="bf16", default=None, choices=("bf16", "fp16"),
                   help="mixed precision: bf16 autocast (CPU/CUDA; the default when given bare) "
                        "or fp16 with a grad scaler (CUDA)")
    t.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    t.add_argument("--invertible", action="store_true",
                   help="HB-Net: train the momentum blocks without storing activations")
    t.add_argument("--threads", type=int, default=None, help="torch intra-op threads per process")
    t.add_argument("--out", default=None, help="output folder (default runs/MODEL-DATASET)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--checkpoint-every", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit-train", type=int, default=None, help="use the first N training images")
    t.add_argument("--limit-test", type=int, default=None, help="use the first N test images")
    t.set_defaults(func=run_train, _parser=t)
    return t


def _check_args(args) -> str | None:
    """The first problem with the options (an argparse-style message naming the option),
    before any data are read or any model is built."""
    from glassnet.cli_checks import MAX_SEED, check_number, check_out
    from glassnet.devices import resolve_device
    from glassnet.estimators.base import MAX_EPOCHS
    from glassnet.nn.optnets import OPTNETS_MODELS
    from glassnet.registry import models

    if args.model not in models():
        return f"unknown model {args.model!r}; `glassnet list` shows the registered ones"
    if args.model not in OPTNETS_MODELS:
        return (f"{args.model!r} is not an image classifier; glassnet train takes one of "
                f"{', '.join(OPTNETS_MODELS)}")
    checks = [
        check_number("--epochs", args.epochs, low=1, high=MAX_EPOCHS),
        check_number("--batch-size", args.batch_size, low=1),
        check_number("--checkpoint-every", args.checkpoint_every, low=1),
        check_number("--lr", args.lr, low=0, low_open=True),
        check_number("--momentum", args.momentum, low=0, high=1, high_open=True),
        check_number("--weight-decay", args.weight_decay, low=0),
        check_number("--workers", args.workers, low=0),
        check_number("--threads", args.threads, low=1, allow_none=True),
        check_number("--seed", args.seed, low=0, high=MAX_SEED),
        check_number("--limit-train", args.limit_train, low=1, allow_none=True),
        check_number("--limit-test", args.limit_test, low=1, allow_none=True),
        *(check_number("--milestones", m, low=0, low_open=True) for m in args.milestones),
        check_out(_out_dir(args) if args.out is None else args.out),  # --out '' is no folder
    ]
    problem = next((c for c in checks if c is not None), None)
    if problem is not None:
        return problem
    if args.momentum == 0 and not args.no_nesterov:
        return "argument --momentum: 0 needs --no-nesterov (Nesterov momentum needs a momentum > 0)"
    if args.resume and (problem := _check_resume(args)) is not None:
        return problem
    try:
        device = resolve_device(args.device)
    except ValueError as err:
        return f"--device: {err}"
    if args.amp == "fp16" and device.type != "cuda":
        return f"--amp fp16 needs CUDA (the device is {device}); use --amp bf16"
    if args.invertible:
        try:  # DenseNets have no such option; ResNets have nothing to invert (beta_2 = 0)
            models()[args.model](invertible=True, num_classes=10)
        except TypeError:
            return f"--invertible: model {args.model!r} has no invertible option (HB-Net models have)"
        except ValueError as err:
            return f"--invertible: {err}"
    return None


def _out_dir(args) -> Path:
    return Path(args.out) if args.out is not None else Path(f"runs/{args.model}-{args.dataset}")


RUN_RECORD = "run.json"  # what built the checkpoint's model: compared on --resume
_RECORD_KEYS = ("model", "dataset", "invertible")


def _record(args) -> dict:
    return {k: getattr(args, k) for k in _RECORD_KEYS}


def _check_resume(args) -> str | None:
    """Why ``--resume`` cannot continue OUT/checkpoint.pt: the model, dataset or
    ``--invertible`` recorded by the run that wrote it (``run.json``, else the
    ``summary.json`` of a finished run) differ from this run's. None without a record."""
    out = _out_dir(args)
    if not (out / "checkpoint.pt").is_file():
        return None
    for name in (RUN_RECORD, "summary.json"):
        try:
            old = json.loads((out / name).read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(old, dict):
            continue
        new = _record(args)
        old = {**new, **{k: old[k] for k in _RECORD_KEYS if k in old}}  # unrecorded: as now
        if old == new:
            return None
        return (f"argument --resume: {out / 'checkpoint.pt'} was written by {_describe(old)} "
                f"(recorded in {name}), not {_describe(new)}; resume with the same model, "
                "--dataset and --invertible, or choose another --out")
    return None


def _describe(record: dict) -> str:
    return f"{record['model']} on {record['dataset']}{' --invertible' if record['invertible'] else ''}"


def _setup_distributed(device_arg: str):
    import torch
    import torch.distributed as dist

    from glassnet.devices import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_arg)
    if device.type == "cuda" and device.index is None:  # set_device needs an index
        device = torch.device("cuda", local if world > 1 else torch.cuda.current_device())
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def run_train(args) -> int:
    import torch
    import torch.nn.functional as F

    from glassnet.datasets.optnets_data import ImageDataset, load_cifar
    from glassnet.progress import log
    from glassnet.registry import create_model
    from glassnet.training import MultiStep, fit
    from glassnet.utils import local_seed, threads

    problem = _check_args(args)
    if problem is not None:  # argparse's format (usage, then "prog: error: ..."), exit code 2
        parser = getattr(args, "_parser", None)
        if parser is not None:
            parser.print_usage(sys.stderr)
        print(f"glassnet train: error: {problem}", file=sys.stderr)
        return 2
    try:
        Xtr, ytr = load_cifar(args.dataset, "train", args.data_dir)
        Xte, yte = load_cifar(args.dataset, "test", args.data_dir)
    except FileNotFoundError as err:
        print(f"glassnet train: {err}", file=sys.stderr)
        return 1
    if args.limit_train:
        Xtr, ytr = Xtr[: args.limit_train], ytr[: args.limit_train]
    if args.limit_test:
        Xte, yte = Xte[: args.limit_test], yte[: args.limit_test]
    rank, world, device = _setup_distributed(args.device)
    import torch.distributed as dist

    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} must be divisible by {world} processes")
    out = _out_dir(args)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_RECORD).write_text(json.dumps(_record(args), indent=2))
    n_classes = 10 if args.dataset == "cifar10" else 100
    train = ImageDataset(Xtr, ytr, augment=not args.no_augment)
    test = ImageDataset(Xte, yte, mean=train.mean.flatten(), std=train.std.flatten())
    test_shard = torch.utils.data.Subset(test, range(rank, len(test), world))
    gen = torch.Generator().manual_seed(args.seed)
    if world > 1:
        sampler = torch.utils.data.distributed.DistributedSampler(
            train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=False)
        loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size // world,
                                             sampler=sampler, num_workers=args.workers,
                                             generator=gen, persistent_workers=args.workers > 0)
    else:
        loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=True,
                                             num_workers=args.workers, generator=gen,
                                             persistent_workers=args.workers > 0)
    test_loader = torch.utils.data.DataLoader(test_shard, batch_size=256, num_workers=0)
    # same initial weights on every rank (DDP also broadcasts); augmentation draws (fit's
    # seed) differ between ranks
    extra = {"invertible": True} if args.invertible else {}
    with local_seed(args.seed):
        net = create_model(args.model, num_classes=n_classes, **extra).to(device)
    if args.channels_last:  # before DDP wraps the parameters
        net = net.to(memory_format=torch.channels_last)
    model = net
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None)

    def loss_fn(m, x, y):
        return F.cross_entropy(m(x), y)

    def test_error(m) -> float:
        wrong = torch.zeros(2, dtype=torch.float64, device=device)
        with torch.no_grad():
            for x, y in test_loader:
                x, y = x.to(device), y.to(device)
                wrong[0] += (net(x).argmax(1) != y).sum()
                wrong[1] += y.numel()
        if world > 1:
            dist.all_reduce(wrong)
        return float(wrong[0] / wrong[1].clamp_min(1))

    t0, rows = time.perf_counter(), []
    metrics = out / "metrics.csv"

    def on_epoch_end(epoch, history):
        row = {"epoch": epoch, "train_loss": history.train_loss[-1], "test_error": history.val_loss[-1],
               "lr": history.lr[-1], "elapsed_s": time.perf_counter() - t0}
        rows.append(row)
        if rank == 0:
            new = not metrics.exists() or epoch == 0
            with open(metrics, "w" if new else "a") as fh:
                if new:
                    fh.write(",".join(row) + "\n")
                fh.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row.values()) + "\n")
            log(f"epoch {epoch + 1}/{args.epochs}: train loss {row['train_loss']:.4f}, "
                f"test error {100 * row['test_error']:.2f}%, lr {row['lr']:.3g}")

    with threads(args.threads):
        history = fit(model, loss_fn, loader, val_fn=test_error, optimizer="sgd", lr=args.lr,
                      momentum=args.momentum, nesterov=not args.no_nesterov,
                      weight_decay=args.weight_decay, max_epochs=args.epochs,
                      lr_schedule=MultiStep(tuple(args.milestones), 0.1), device=device,
                      checkpoint=out / "checkpoint.pt", checkpoint_every=args.checkpoint_every,
                      resume=args.resume, restore_best=False, seed=args.seed + rank, n_threads=None,
                      on_epoch_end=on_epoch_end, verbose=False, amp=args.amp or False,
                      channels_last=args.channels_last)
    if rank == 0:
        from safetensors.torch import save_file

        save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()},
                  str(out / "model.safetensors"))
        summary = {"model": args.model, "dataset": args.dataset, "epochs": history.n_epochs,
                   "final_test_error": history.val_loss[-1], "world_size": world,
                   "train_images": len(train), "test_images": len(test),
                   "parameters": sum(p.numel() for p in net.parameters()),
                   "amp": args.amp, "channels_last": args.channels_last,
                   "invertible": args.invertible, "device": str(device)}
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0
