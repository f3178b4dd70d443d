"""Real multi-view tuning stand-ins for DSRL clustering (round 8), built from image data that is
not a report set.

The report's image sets get their views from several descriptors of one image (ORL: intensity,
LBP and Gabor features of faces; Handwritten: pixel, Fourier, profile, Karhunen-Loeve, Zernike
and morphological features of digits). The stand-ins below build views the same way from
images that no report set contains:

* ``Yale-4v``: Yale faces (``faces/Yale_32x32.mat``, 165 images of 15 people, 32 x 32), four
  face descriptors as for ORL: intensity (1024), uniform-LBP histograms on a 4 x 4 grid (160),
  Gabor magnitudes (4 orientations x 2 frequencies, 8 x 8 pooled: 512) and HOG (324).
* ``USPS-6v-<draw>``: ``usps/USPS.mat`` (11,000 digits, 16 x 16), 1,000 rows per draw (100 per
  class, drawn with ``numpy.random.default_rng(draw)``), six digit feature families as for
  Handwritten: pixels 2 x 2 pooled (64), Fourier magnitudes (low 8 x 8 block less the DC
  term: 63), row/column profiles of ink and of edges (64), Karhunen-Loeve (PCA, 40
  coefficients of the 1,000 rows), HOG (324) and morphology (7 Hu moments, ink area,
  centroid, extent: 12).
* ``digits-6v-<draw>``: scikit-learn's bundled ``load_digits`` (1,797 digits, 8 x 8),
  upsampled to 16 x 16, 900 rows per draw (90 per class; ``default_rng(10 + draw)``), the
  same six families.

* ``3Sources-sub<frac>-<draw>``: the tuning set 3Sources (three news sources' word counts)
  with each view cut to a random ``frac`` of its columns (0.2, 0.1, 0.05; columns drawn with
  ``default_rng(draw)``; constant columns dropped): weak text views, where the view gate
  drops views, the fallback fires and no pair of views may agree, as on the report's text sets
  (the image stand-ins never reach those steps).

Everything is deterministic (fixed draws, no randomness in the descriptors). Nothing here
reads a report set (ORL, ALOI, BBCSport, 20NewsGroups, Reuters-1200, Handwritten, MNIST).
Olivetti faces (scikit-learn's ``fetch_olivetti_faces``) are the ORL database and are not used.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_standins.py   # prints each stand-in's views
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets import data_dir as _data_dir  # argument, $GLASSNET_DATA, ../shared/data


def _pool(img, f):
    h, w = img.shape
    return img[: h - h % f, : w - w % f].reshape(h // f, f, w // f, f).mean(axis=(1, 3))


def _hog(img, cell):
    from skimage.feature import hog

    return hog(img, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
               feature_vector=True)


def _lbp_grid(img, grid=4):
    from skimage.feature import local_binary_pattern

    codes = local_binary_pattern((img * 255).astype(np.uint8), 8, 1, method="uniform")
    h, w = codes.shape
    out = []
    for i in range(grid):
        for j in range(grid):
            block = codes[i * h // grid:(i + 1) * h // grid, j * w // grid:(j + 1) * w // grid]
            out.append(np.bincount(block.astype(int).ravel(), minlength=10)[:10] / block.size)
    return np.concatenate(out)


def _gabor(img, pool):
    from skimage.filters import gabor

    out = []
    for freq in (0.15, 0.3):
        for theta in np.arange(4) * np.pi / 4:
            re, im = gabor(img, frequency=freq, theta=theta)
            out.append(_pool(np.hypot(re, im), pool).ravel())
    return np.concatenate(out)


def _fourier(img, m=8):
    F = np.abs(np.fft.fft2(img))[:m, :m].ravel()
    return F[1:]  # without the DC term (the ink total)


def _profiles(img):
    ink = img > 0.5 * img.max() if img.max() > 0 else img > 0
    edges = np.abs(np.diff(ink.astype(float), axis=1))
    edges_v = np.abs(np.diff(ink.astype(float), axis=0))
    return np.concatenate([img.mean(1), img.mean(0), edges.sum(1), edges_v.sum(0)])


def _morphology(img):
    from skimage.measure import moments_central, moments_hu, moments_normalized

    hu = moments_hu(moments_normalized(moments_central(img), 3))
    hu = np.sign(hu) * np.log1p(np.abs(hu) * 1e4)
    ink = img > 0.5 * img.max()
    rows, cols = np.nonzero(ink)
    h, w = img.shape
    area = ink.mean()
    cy, cx = (rows.mean() / h, cols.mean() / w) if rows.size else (0.5, 0.5)
    ext = ((np.ptp(rows) + 1) / h, (np.ptp(cols) + 1) / w) if rows.size else (0.0, 0.0)
    return np.concatenate([hu, [area, cy, cx, *ext]])


def face_views(imgs):
    """Intensity, LBP-grid histograms, Gabor magnitudes and HOG of (n, 32, 32) images in [0, 1]."""
    return [imgs.reshape(len(imgs), -1),
            np.array([_lbp_grid(x) for x in imgs]),
            np.array([_gabor(x, 4) for x in imgs]),
            np.array([_hog(x, 8) for x in imgs])]


def digit_views(imgs, n_pca=40):
    """Pixels (2 x 2 pooled), Fourier magnitudes, profiles, Karhunen-Loeve (PCA) coefficients,
    HOG and morphology of (n, 16, 16) images in [0, 1]."""
    from sklearn.decomposition import PCA

    flat = imgs.reshape(len(imgs), -1)
    return [np.array([_pool(x, 2).ravel() for x in imgs]),
            np.array([_fourier(x) for x in imgs]),
            np.array([_profiles(x) for x in imgs]),
            PCA(n_pca, svd_solver="full").fit_transform(flat - flat.mean(0)),
            np.array([_hog(x, 4) for x in imgs]),
            np.array([_morphology(x) for x in imgs])]


def _balanced(y, per_class, rng):
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                                   for c in np.unique(y)]))


def yale(data_dir=None):
    from scipy.io import loadmat

    from glassnet.datasets.multiview import MultiviewData

    d = loadmat(_data_dir(data_dir) / "faces" / "Yale_32x32.mat")
    imgs = d["fea"].astype(np.float64).reshape(-1, 32, 32).transpose(0, 2, 1) / 255.0
    y = d["gnd"].ravel().astype(np.int64) - 1
    return MultiviewData("Yale-4v", face_views(imgs), y)


def usps(draw=0, per_class=100, data_dir=None):
    from scipy.io import loadmat

    from glassnet.datasets.multiview import MultiviewData

    d = loadmat(_data_dir(data_dir) / "usps" / "USPS.mat")
    y = d["gnd"].ravel().astype(np.int64) - 1
    idx = _balanced(y, per_class, np.random.default_rng(draw))
    imgs = d["fea"][idx].astype(np.float64).reshape(-1, 16, 16).transpose(0, 2, 1) / 255.0
    return MultiviewData(f"USPS-6v-{draw}", digit_views(imgs), y[idx])


def digits(draw=0, per_class=90):
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    from glassnet.datasets.multiview import MultiviewData

    b = load_digits()
    idx = _balanced(b.target, per_class, np.random.default_rng(10 + draw))
    imgs = np.array([zoom(x / 16.0, 2, order=1) for x in b.images[idx]]).clip(0, 1)
    return MultiviewData(f"digits-6v-{draw}", digit_views(imgs), b.target[idx].astype(np.int64))


def weakened(d, frac, draw):
    """``d`` with each view cut to a random ``frac`` of its columns (at least 3; constant
    columns dropped)."""
    from glassnet.datasets.multiview import MultiviewData

    rng = np.random.default_rng(draw)
    views = []
    for v in d.views:
        keep = np.sort(rng.choice(v.shape[1], max(3, round(frac * v.shape[1])), replace=False))
        views.append(v[:, keep][:, v[:, keep].std(axis=0) > 0])
    return MultiviewData(f"{d.name}-sub{frac:g}-{draw}", views, d.y)


def standins(data_dir=None, usps_draws=(0, 1), digits_draws=(0, 1), text_fracs=(0.2, 0.1, 0.05),
             text_draws=(0, 1, 2)):
    """Yield the stand-ins (MultiviewData), in a fixed order."""
    from glassnet.datasets.multiview import load_multiview

    yield yale(data_dir)
    for draw in usps_draws:
        yield usps(draw, data_dir=data_dir)
    for draw in digits_draws:
        yield digits(draw)
    three = load_multiview("3Sources", data_dir)
    for frac in text_fracs:
        for draw in text_draws:
            yield weakened(three, frac, draw)


if __name__ == "__main__":
    for d in standins():
        print(d.name, d.n_samples, d.n_classes, [v.shape[1] for v in d.views])
