"""Super-resolution (MatNetSR and the image transforms): patch merge is exact, colour conversion
inverts, PSNR convention, the estimator beats bicubic on an image it did not train on, bad
images and parameters raise clear errors, clone / save / load keep it exact."""

import warnings

import numpy as np
import pytest
import torch

import glassnet
from glassnet import MatNetSR
from glassnet.datasets.images import (
    degrade,
    extract_patches,
    feature_images,
    merge_patches,
    modcrop,
    patch_grid,
    rgb_to_ycbcr,
    ycbcr_to_rgb,
)
from glassnet.metrics import psnr

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
    c = a.copy()
    c[3, 3] = np.nan  # a NaN pixel used to give a NaN score
    for bad in ((a, c), (c, a), (np.zeros((0, 0)), np.zeros((0, 0)))):
        with pytest.raises(ValueError, match="psnr needs"):
            psnr(*bad)
    with pytest.raises(ValueError, match="peak"):
        psnr(a, b, peak=0.0)
    for args, kw, word in (((a + 1j, b), {}, "real images"), ((a[0], b[0]), {"border": 1}, "2-d or more"),
                           ((a, b), {"border": 1.5}, "border"), ((a, b), {"peak": "255"}, "peak")):
        with pytest.raises(ValueError, match=word):
            psnr(*args, **kw)


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


def _camera():
    import skimage.data

    return skimage.data.camera()


def test_matnet_sr_beats_bicubic_on_a_crop_it_did_not_train_on():
    """Train on the top-left of the photograph, score on a disjoint crop of its bottom half."""
    img = _camera()
    train, test = img[40:168, 100:228], img[300:428, 250:378]
    sr = MatNetSR(n_patches=3000, max_epochs=20, lr=0.01, stride=3, random_state=0).fit(train)
    r = sr.evaluate(test)
    assert r["y_matnet"].shape == (128, 128)
    assert r["psnr_matnet"] > r["psnr_bicubic"] + 0.4  # +0.63 dB (seeds 0-2: 0.55-0.63; 40 epochs: 0.81-0.84)
    up = sr.upscale(np.stack([test[::2, ::2]] * 3, -1), channel_axis=-1)
    assert up.shape == (128, 128, 3) and up.dtype == np.uint8
    gray = sr.upscale(test[::2, ::2].astype(float))
    assert gray.shape == (128, 128) and np.isfinite(gray).all()
    stack = sr.upscale(np.stack([test[::2, ::2]] * 2))  # (n, h, w) stack -> stack
    np.testing.assert_array_equal(stack[1], gray)


@pytest.fixture(scope="module")
def small_sr():
    return MatNetSR(n_patches=300, max_epochs=2, stride=5, random_state=0).fit(_camera()[:64, :64])


def test_bad_images_raise_clear_errors(small_sr):
    lr = _camera()[:32, :32].astype(float)
    bad = lr.copy()
    bad[3, 4] = np.nan  # used to corrupt 621 of 1024 output pixels silently
    with pytest.raises(ValueError, match="NaN or infinity"):
        small_sr.upscale(bad)
    with pytest.raises(ValueError, match="NaN or infinity"):
        small_sr.upscale(np.stack([bad] * 3, -1), channel_axis=-1)
    with pytest.raises(ValueError, match="[Cc]omplex"):
        small_sr.upscale(lr + 1j)
    with pytest.raises(ValueError, match="2-d grayscale|RGB"):
        small_sr.upscale(lr[0])
    with pytest.raises(ValueError, match="too small"):
        small_sr.upscale(lr[:4, :4])
    with pytest.raises(ValueError, match="numeric"):
        small_sr.upscale(lr.astype(str).astype(object) + "x")
    with pytest.raises(ValueError, match="NaN or infinity"):
        MatNetSR(max_epochs=1).fit([_camera()[:64, :64], bad])


@pytest.mark.parametrize("scale", [0, 1, 2.0, 1.5, "2", True])
def test_scale_must_be_an_int_of_at_least_two(scale):
    with pytest.raises(ValueError, match="scale"):
        MatNetSR(scale=scale, max_epochs=1).fit(_camera()[:64, :64])


def test_bad_parameters_raise_clear_errors():
    img = _camera()[:64, :64]
    for kw, word in [({"input_mode": "x"}, "input_mode"), ({"target": "x"}, "target"),
                     ({"patch_size": 0}, "patch_size"), ({"stride": 0}, "stride"),
                     ({"hidden_shape": (3,)}, "hidden_shape"), ({"lam": -1.0}, "lam"),
                     ({"n_patches": 0}, "n_patches"), ({"patch_size": 80}, "at least 80 x 80"),
                     ({"stride": 9, "patch_size": 4}, "stride=9 is larger than patch_size=4")]:
        with pytest.raises(ValueError, match=word):
            MatNetSR(max_epochs=1, **kw).fit(img)
    for name in ("lam", "beta", "residual_gain"):  # finite reals; the gain also > 0
        for bad in (float("nan"), float("inf"), -1.0, "0.1", True) + ((0.0,) if name == "residual_gain" else ()):
            with pytest.raises(ValueError, match=f"'{name}' parameter"):
                MatNetSR(max_epochs=1, **{name: bad}).fit(img)


def test_clone_save_load_and_constructor_parameters(small_sr, tmp_path):
    from sklearn.base import clone

    params = MatNetSR().get_params()
    assert "module_" not in params and "history_" not in params
    assert params["random_state"] is None and params["verbose"] is False
    twin = clone(small_sr)
    assert twin.get_params() == small_sr.get_params() and not hasattr(twin, "module_")
    glassnet.save(small_sr, tmp_path / "sr.glassnet")
    back = glassnet.load(tmp_path / "sr.glassnet")
    lr = _camera()[200:232, 200:232]
    np.testing.assert_array_equal(back.upscale(lr), small_sr.upscale(lr))


def test_same_seed_same_model_and_no_global_seed_change():
    img = _camera()[:64, :64]
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    a = MatNetSR(n_patches=200, max_epochs=2, random_state=3).fit(img)
    assert torch.equal(torch.rand(2), expected)
    b = MatNetSR(n_patches=200, max_epochs=2, random_state=3).fit(img)
    for k, v in a.module_.state_dict().items():
        assert torch.equal(v, b.module_.state_dict()[k])


def test_channel_axis_reads_a_width_3_grayscale_stack_unambiguously():
    """(n, h, 3) is one colour image or n grayscale images 3 pixels wide: by default it is
    refused with a message naming both readings; channel_axis picks one."""
    sr = MatNetSR(patch_size=2, hidden_shape=(2, 2), n_patches=50, max_epochs=2,
                  random_state=0).fit(_camera()[:32, :32])
    rng = np.random.default_rng(0)
    stack = rng.uniform(0, 255, (4, 10, 3))
    with pytest.raises(ValueError, match="ambiguous.*channel_axis=-1.*channel_axis=None"):
        sr.upscale(stack)
    gray = sr.upscale(stack, channel_axis=None)  # 4 grayscale images in, 4 out
    assert gray.shape == (4, 20, 6) and gray.dtype == np.float64
    for k in range(4):
        np.testing.assert_array_equal(gray[k], sr.upscale(stack[k]))
    rgb = sr.upscale(stack, channel_axis=-1)  # one colour image in, one out
    assert rgb.shape == (8, 20, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, sr.upscale([stack])[0])  # a list item is one image
    # a 3-d array whose last axis is not 3 or 4, and a 4-d array, are not ambiguous
    assert sr.upscale(stack[..., :2]).shape == (4, 20, 4)
    assert sr.upscale(np.stack([stack, stack])).shape == (2, 8, 20, 3)
    # the layout must agree with an explicit channel_axis
    with pytest.raises(ValueError, match="channel_axis=-1 an image is an"):
        sr.upscale(stack[0], channel_axis=-1)
    with pytest.raises(ValueError, match="channel_axis=-1 an image is an"):
        sr.upscale(stack[..., :2], channel_axis=-1)
    with pytest.raises(ValueError, match="4-d array is a stack of colour images"):
        sr.upscale(np.stack([stack, stack]), channel_axis=None)
    with pytest.raises(ValueError, match="channel_axis=None an image is a 2-d"):
        sr.upscale([stack], channel_axis=None)
    for bad in (0, 2, "last", True, 1.0):
        with pytest.raises(ValueError, match="channel_axis must be"):
            sr.upscale(stack, channel_axis=bad)
    # fit and evaluate read images the same way
    with pytest.raises(ValueError, match="ambiguous"):
        MatNetSR(patch_size=2, n_patches=20, max_epochs=1).fit(rng.uniform(0, 255, (6, 12, 3)))
    fitted = MatNetSR(patch_size=2, hidden_shape=(2, 2), n_patches=50, max_epochs=1,
                      random_state=0).fit(rng.uniform(0, 255, (6, 12, 3)), channel_axis=None)
    assert fitted.n_patches_ == 50
    with pytest.raises(ValueError, match="channel_axis=None an image is a 2-d"):
        sr.evaluate(np.stack([_camera()[:32, :32]] * 3, -1), channel_axis=None)


def test_skimage_loader_names_unknown_and_missing_images(monkeypatch):
    import skimage.data

    from glassnet.datasets import load_skimage_images

    assert load_skimage_images("camera")["camera"].dtype == np.uint8  # a name, not its letters
    with pytest.raises(ValueError, match=r"unknown scikit-image image\(s\) \['nosuch'\]"):
        load_skimage_images(["camera", "nosuch"])
    with pytest.raises(ValueError, match="unknown"):
        load_skimage_images(["data_dir"])  # in skimage.data, but not an image


    def offline():  # what scikit-image's fetcher raises for a download-only image offline
        raise OSError("Unable to download data/cells3d.tif")

    monkeypatch.setattr(skimage.data, "cells3d", offline)
    with pytest.raises(FileNotFoundError, match="'cells3d' is not on this machine"):
        load_skimage_images("cells3d")


def test_images_on_the_0_1_scale_warn():
    """MatNetSR reads 0-255 pixels; images scaled to [0, 1] would train on near-black input."""
    img = _camera()[:40, :40] / 255.0
    with pytest.warns(UserWarning, match=r"every training image lies in \[0, 1\]"):
        MatNetSR(patch_size=5, n_patches=20, max_epochs=1, random_state=0).fit(img)


def test_pixels_off_the_0_255_scale_are_refused_or_warned(small_sr):
    """A 1000-valued image upscaled to all 255 and a uint16 one (x 257) to saturated pixels,
    a boolean one ran, fit trained on uint16 silently; upscale did not warn on [0, 1] images."""
    lr = _camera()[:32, :32]
    for bad, words in [(np.full((20, 20), 1000.0), r"pixel values in \[1000, 1000\]"),
                       (lr.astype(np.uint16) * 257, r"pixel values in \[\d+, \d+\].*divide uint16 images by 257"),
                       (np.ones((20, 20), bool), "boolean image")]:
        with pytest.raises(ValueError, match=words):
            small_sr.upscale(bad)
        with pytest.raises(ValueError, match=words):
            MatNetSR(patch_size=5, n_patches=20, max_epochs=1).fit(np.tile(bad, (2, 2)))
    with pytest.raises(ValueError, match=r"X\[1\] has pixel values"):
        small_sr.upscale([lr, lr * 2.0])
    with pytest.raises(ValueError, match="pixel values in"):
        small_sr.evaluate(_camera()[:64, :64] * 4.0)
    with pytest.warns(UserWarning, match=r"every image lies in \[0, 1\]"):
        small_sr.upscale(lr / 255.0)
    with pytest.warns(UserWarning, match="negative pixel values"):
        small_sr.upscale(lr - 300.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_sr.upscale(lr.astype(float))  # the 0-255 scale: no warning


def test_scale_or_patch_size_set_after_fit_needs_a_refit(small_sr):
    """set_params(scale=3) after a x2 fit gave a x3 image from the x2 model; another
    patch_size failed with an internal shape error."""
    import copy

    sr = copy.deepcopy(small_sr)
    lr = _camera()[:32, :32]
    for kw in ({"scale": 3}, {"patch_size": 9}):
        sr.set_params(**kw)
        for call in (lambda: sr.upscale(lr), lambda: sr.evaluate(_camera()[:64, :64])):
            with pytest.raises(ValueError, match="refit after changing scale/patch_size"):
                call()
        sr.set_params(scale=2, patch_size=15)
    np.testing.assert_array_equal(sr.upscale(lr), small_sr.upscale(lr))
    del sr.scale_  # a model saved before scale_ was kept: checked by its patch size alone
    np.testing.assert_array_equal(sr.upscale(lr), small_sr.upscale(lr))
