"""Super-resolution pipeline: patch merge is exact, colour conversion inverts, PSNR convention."""

import numpy as np
import pytest
import torch

from glassnet.metrics import psnr
from glassnet.sr import (
    MatNetSR,
    degrade,
    extract_patches,
    feature_images,
    merge_patches,
    modcrop,
    patch_grid,
    rgb_to_ycbcr,
    ycbcr_to_rgb,
)

torch.set_num_threads(1)


@pytest.mark.parametrize("stride", [1, 2, 4, 7, 15])
def test_merging_own_patches_reconstructs_image_exactly(stride):
    img = np.random.default_rng(0).random((37, 50))
    patches, rows, cols = extract_patches(img, 15, stride)
    assert rows[-1] == 37 - 15 and cols[-1] == 50 - 15  # the border is covered
    np.testing.assert_allclose(merge_patches(patches, rows, cols, img.shape), img, rtol=0, atol=1e-12)


def test_merge_averages_overlaps_and_checks_grid():
    rows, cols = patch_grid(4, 3, 1), patch_grid(3, 3, 1)
    patches = np.stack([np.full((3, 3), 1.0), np.full((3, 3), 3.0)])[:, None]  # 2 rows x 1 col
    out = merge_patches(patches, rows, cols, (4, 3))
    np.testing.assert_allclose(out[0], 1.0)
    np.testing.assert_allclose(out[1:3], 2.0)  # overlap: mean of 1 and 3
    np.testing.assert_allclose(out[3], 3.0)
    with pytest.raises(ValueError, match="does not match"):
        merge_patches(patches, rows[:1], cols, (4, 3))
    with pytest.raises(ValueError, match="exceeds"):
        patch_grid(10, 15, 1)


def test_ycbcr_round_trip_and_matlab_range():
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    ycc = rgb_to_ycbcr(rgb)
    np.testing.assert_array_equal(ycbcr_to_rgb(ycc), rgb)
    assert np.isclose(rgb_to_ycbcr(np.zeros((1, 1, 3)))[0, 0, 0], 16.0)
    assert np.isclose(rgb_to_ycbcr(np.full((1, 1, 3), 255.0))[0, 0, 0], 235.0)


def test_psnr_convention():
    a = np.zeros((10, 10))
    b = a.copy()
    b[0, :] = 255.0  # error only in the border row
    assert psnr(a, b, border=1) == float("inf")
    assert np.isclose(psnr(a, b, border=0), 10 * np.log10(255.0**2 / (255.0**2 / 10)))
    with pytest.raises(ValueError, match="shape"):
        psnr(a, np.zeros((9, 10)))


def test_degrade_and_features():
    y = np.tile(np.linspace(0, 1, 32), (32, 1))  # a ramp along x
    y_lr, y_bic = degrade(y, 2)
    assert y_lr.shape == (16, 16) and y_bic.shape == (32, 32)
    f = feature_images(y)
    # first derivative along x is constant inside, along y zero; second derivatives zero
    assert np.allclose(f[0][:, 3:-3], 0.5 + (2 / 31) / 2) and np.allclose(f[1], 0.5)
    assert np.allclose(f[2][:, 3:-3], 0.5) and np.allclose(f[3], 0.5)
    with pytest.raises(ValueError, match="modcrop"):
        degrade(np.zeros((31, 32)), 2)
    assert modcrop(np.zeros((31, 33, 3)), 2).shape == (30, 32, 3)


def test_matnet_sr_trains_and_beats_bicubic_on_a_texture():
    """A small net trained on a photograph's crop improves its bicubic upscaling."""
    import skimage.data

    img = skimage.data.camera()[100:228, 150:278]
    sr = MatNetSR(n_patches=3000, max_epochs=40, lr=0.01, stride=3, random_state=0).fit([img])
    r = sr.evaluate(img)
    assert r["y_matnet"].shape == (128, 128)
    assert r["psnr_matnet"] > r["psnr_bicubic"] + 0.3
    up = sr.upscale(np.stack([img[::2, ::2]] * 3, -1))
    assert up.shape == (128, 128, 3) and up.dtype == np.uint8
    with pytest.raises(ValueError, match="input_mode"):
        MatNetSR(input_mode="x").training_tuples([img])
