"""Image data for the algorithm-inspired nets: USPS (shared/data), CIFAR-10/100 (python
pickle batches the user provides) and a torch ``Dataset`` with the paper's augmentation.

CIFAR is not shipped and never downloaded. Put the *python version* from
https://www.cs.toronto.edu/~kriz/cifar.html, extracted, under the data directory::

    D/cifar-10-batches-py/{data_batch_1..5, test_batch}     (cifar-10-python.tar.gz)
    D/cifar-100-python/{train, test}                        (cifar-100-python.tar.gz)

(``D`` may also be the batch folder itself.) The batches are Python pickles; they are read
with an unpickler that only admits numpy arrays and builtin containers, so a crafted file
cannot run code (DESIGN.md rule 16).
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from glassnet.datasets._base import as_pixels, check_labels, data_dir, read_mat, require_file

__all__ = ["CIFAR_FOLDERS", "ImageDataset", "load_cifar", "load_usps"]

USPS_SOURCE = "Roweis' usps_all (USPS.mat: fea 11000 x 256 uint8, gnd = digit + 1)"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CIFAR_FILES = {"cifar10": ([f"data_batch_{i}" for i in range(1, 6)], ["test_batch"]),
               "cifar100": (["train"], ["test"])}


def load_usps(data_dir: str | os.PathLike | None = None):
    """USPS as ``(X, y)``: ``X`` (11000, 16, 16) uint8 upright digits, ``y`` digits 0-9."""
    f = require_file(data_dir, "usps/USPS.mat", USPS_SOURCE)
    m = read_mat(f, "fea", "gnd")
    fea, gnd = np.asarray(m["fea"]), np.asarray(m["gnd"]).reshape(-1)
    if fea.ndim != 2 or fea.shape[1] != 256:
        raise ValueError(f"{f}: fea must hold one 16 x 16 image (256 values) per row, got shape {fea.shape}")
    y = gnd - 1  # stored 1-10
    X = as_pixels(fea.reshape(-1, 16, 16), str(f), (16, 16), 10, y)
    return X, y.astype(np.int64)


class _SafeUnpickler(pickle.Unpickler):
    """Admits only what CIFAR's batches hold: dicts, lists, bytes/str, numbers, numpy arrays."""

    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")})

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR batch refers to {module}.{name}; refusing to load it")


def _read_batch(path: Path) -> dict:
    with open(path, "rb") as fh:
        d = _SafeUnpickler(io.BytesIO(fh.read()), encoding="bytes").load()
    if not isinstance(d, dict):
        raise ValueError(f"{path}: not a CIFAR batch (expected a dict)")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}


def _cifar_folder(name: str, root: str | os.PathLike | None) -> Path:
    if name not in CIFAR_FOLDERS:
        raise ValueError(f"dataset must be one of {sorted(CIFAR_FOLDERS)}, got {name!r}")
    sub = CIFAR_FOLDERS[name]
    try:
        base = data_dir(root)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err}. {_where(name, root)}") from None
    for cand in (base / sub, base):
        if all((cand / f).is_file() for f in (*CIFAR_FILES[name][0], *CIFAR_FILES[name][1])):
            return cand
    raise FileNotFoundError(_where(name, base))


def _where(name, base) -> str:
    sub = CIFAR_FOLDERS[name]
    train, test = CIFAR_FILES[name]
    tar = "cifar-10-python.tar.gz" if name == "cifar10" else "cifar-100-python.tar.gz"
    return (f"{name} not found in {base}: download the python version ({tar}) from {CIFAR_URL}, "
            f"extract it there so that {base}/{sub}/ holds {', '.join(train + test)} "
            "(glassnet never downloads at run time)")


def load_cifar(name: str = "cifar10", split: str = "train", root: str | os.PathLike | None = None):
    """CIFAR-10/100 from the python pickle batches: ``X`` (n, 3, 32, 32) uint8, ``y`` int64
    (CIFAR-100: the 100 fine labels). ``root``: the data directory (or ``$GLASSNET_DATA``)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = _cifar_folder(name, root)
    files = CIFAR_FILES[name][0 if split == "train" else 1]
    key = "labels" if name == "cifar10" else "fine_labels"
    n_classes = 10 if name == "cifar10" else 100
    Xs, ys = [], []
    for f in files:
        d = _read_batch(folder / f)
        if "data" not in d or key not in d:
            raise ValueError(f"{folder / f}: expected keys 'data' and '{key}', got {sorted(d)}")
        x = np.asarray(d["data"], dtype=np.uint8)
        if x.ndim != 2 or x.shape[1] != 3072:
            raise ValueError(f"{folder / f}: data must be n x 3072, got {x.shape}")
        Xs.append(x.reshape(-1, 3, 32, 32))
        ys.append(check_labels(d[key], str(folder / f), n_classes, f"{name} labels"))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{name} {split}: {X.shape[0]} images but {y.shape[0]} labels")
    return X, y


class ImageDataset(torch.utils.data.Dataset):
    """uint8 images ``(n, C, H, W)`` (or ``(n, H, W)``) and labels, normalised per channel by
    ``mean``/``std`` (in [0, 1] units; None: computed from these images), with the paper's
    augmentation when ``augment``: zero padding by ``pad`` pixels, a random crop back to the
    original size and a random horizontal flip (``flip=False`` for digits). Random draws use
    torch's generator, which DataLoader seeds per worker."""

    def __init__(self, X, y, mean=None, std=None, augment: bool = False, pad: int = 4,
                 flip: bool = True):
        X = torch.from_numpy(np.array(X, copy=True))
        if X.ndim == 3:
            X = X[:, None]
        if X.ndim != 4:
            raise ValueError(f"images must be (n, C, H, W) or (n, H, W), got {tuple(X.shape)}")
        y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        if X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise ValueError(f"{X.shape[0]} images but {y.shape[0]} labels")
        Xf = X.float() / 255.0
        if mean is None:
            mean = Xf.mean(dim=(0, 2, 3))
            std = Xf.std(dim=(0, 2, 3)).clamp_min(1e-6)
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
        self.X = ((Xf - self.mean) / self.std).contiguous()
        self.y, self.augment, self.pad, self.flip = y, bool(augment), int(pad), bool(flip)

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        x = self.X[i]
        if self.augment:
            p = self.pad
            _, H, W = x.shape
            xp = torch.nn.functional.pad(x, (p, p, p, p))  # zeros after normalisation
            r, c = torch.randint(0, 2 * p + 1, (2,)).tolist()
            x = xp[:, r : r + H, c : c + W]
            if self.flip and torch.rand(()) < 0.5:
                x = x.flip(-1)
        return x, self.y[i]
