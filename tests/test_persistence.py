"""Loading a file never runs code (DESIGN.md rule 16); fitted pipelines of glassnet estimators
and trusted scikit-learn steps save and load with identical predictions."""

from __future__ import annotations

import json
import pickle
import sys
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, VarianceThreshold, mutual_info_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)

import glassnet
from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier
from glassnet.persistence import FORMAT, FORMAT_VERSION, SKLEARN_TYPES


class _Payload:
    """Unpickling this object would create a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4))
    y = (X[:, 0] > 0).astype(int)
    return ADMMLogisticRegression(k_max=5, i_max=20).fit(X, y), X


def test_a_pickle_with_a_payload_is_refused_and_does_not_run(tmp_path, fitted):
    est, _ = fitted
    marker = tmp_path / "PWNED"
    est.payload_ = _Payload(marker)  # a real model with a payload attached, as in the audit
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a glassnet file"):
        glassnet.load(path)
    assert not marker.exists(), "loading ran the payload"
    with pytest.raises(ValueError, match="not a glassnet file"):
        glassnet.load(_write(tmp_path / "m.pkl", pickle.dumps(est)))
    assert not marker.exists()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _crafted(tmp_path, root, version=None):
    path = tmp_path / "crafted.glassnet"
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION,
            "glassnet_version": version or glassnet.__version__, "root": root}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("arrays.safetensors", b"")
    return path


@pytest.mark.parametrize("root", [
    {"__estimator__": "os:system", "params": {"__dict__": [["command", "touch PWNED"]]}, "state": {"__dict__": []}},
    {"__estimator__": "builtins:eval", "params": {"__dict__": []}, "state": {"__dict__": []}},
    {"__module__": "torch.nn:Linear", "init": {"__dict__": []}, "state": {"__dict__": []}},
    {"__dataclass__": "subprocess:CompletedProcess", "fields": {}},
    {"__estimator__": "glassnet.persistence:_Reader", "params": {"__dict__": []}, "state": {"__dict__": []}},
    {"__sklearn__": "FunctionTransformer", "state": {"func": None}},
    {"__sklearn__": "sklearn.preprocessing:StandardScaler", "state": {}},
    {"__sklearn_function__": "builtins:eval"},
    {"__sklearn__": "StandardScaler", "state": {"__class__": None}},
    {"__npscalar__": "|O", "value": 1},
])
def test_crafted_files_naming_untrusted_types_are_refused(tmp_path, root):
    with pytest.raises(ValueError, match="untrusted|not allowed|invalid|not declared"):
        glassnet.load(_crafted(tmp_path, root))


def test_text_file_pickled_dict_and_missing_file_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not a glassnet file"):
        glassnet.load(_write(tmp_path / "notes.txt", b"hello, I am text"))
    with pytest.raises(ValueError, match="not a glassnet file"):
        glassnet.load(_write(tmp_path / "d.pkl", pickle.dumps({"a": 1})))
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("x.txt", "x")
    with pytest.raises(ValueError, match="not a glassnet file"):
        glassnet.load(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError, match="no saved estimator"):
        glassnet.load(tmp_path / "missing.glassnet")


def test_a_file_from_another_version_says_so(tmp_path, fitted):
    est, X = fitted
    glassnet.save(est, tmp_path / "m.glassnet")
    with zipfile.ZipFile(tmp_path / "m.glassnet") as z:
        meta = json.loads(z.read("meta.json"))
        arrays = z.read("arrays.safetensors")
    meta["glassnet_version"] = "0.0.1"
    with zipfile.ZipFile(tmp_path / "old.glassnet", "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("arrays.safetensors", arrays)
    with pytest.raises(ValueError, match=r"saved by glassnet 0\.0\.1"):
        glassnet.load(tmp_path / "old.glassnet")
    with pytest.warns(UserWarning, match="0.0.1"):
        back = glassnet.load(tmp_path / "old.glassnet", allow_other_version=True)
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_saving_refuses_what_it_cannot_write_as_plain_data(tmp_path, fitted):
    est, _ = fitted
    est.callback_ = lambda x: x
    with pytest.raises(TypeError, match="callback_"):
        glassnet.save(est, tmp_path / "m.glassnet")
    with pytest.raises(ValueError, match="glassnet estimator"):
        glassnet.save({"not": "an estimator"}, tmp_path / "m.glassnet")
    with pytest.raises(ValueError, match="glassnet estimator"):  # a bare scikit-learn model
        glassnet.save(StandardScaler().fit(np.ones((3, 2))), tmp_path / "m.glassnet")


# ----------------------------------------------------------------------------- pipelines


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6)) * [1, 10, 0.1, 3, 1, 1] + [0, 5, -2, 0, 1, 0]
    y = (X[:, 0] - 0.2 * X[:, 1] + 0.5 * rng.standard_normal(80) > -1).astype(int)
    X_missing = X.copy()
    X_missing[rng.random(X.shape) < 0.1] = np.nan
    return X, X_missing, y


def _round_trip(obj, tmp_path):
    path = tmp_path / "pipeline.glassnet"
    glassnet.save(obj, path)
    return glassnet.load(path)


def _assert_same_pipeline(back, pipe, X):
    assert type(back) is Pipeline
    assert [(n, type(s)) for n, s in back.steps] == [(n, type(s)) for n, s in pipe.steps]
    assert back.get_params(deep=True).keys() == pipe.get_params(deep=True).keys()
    for method in ("predict", "predict_proba", "decision_function", "score"):
        if hasattr(pipe, method):
            args = (X, (pipe.predict(X))) if method == "score" else (X,)
            np.testing.assert_array_equal(getattr(back, method)(*args), getattr(pipe, method)(*args))
    np.testing.assert_array_equal(back[:-1].transform(X), pipe[:-1].transform(X))


def test_readme_pipeline_round_trip_predicts_identically(tmp_path, problem):
    X, _, y = problem
    pipe = make_pipeline(StandardScaler(), ADMMLogisticRegression(k_max=5, i_max=20)).fit(X, y)
    back = _round_trip(pipe, tmp_path)
    _assert_same_pipeline(back, pipe, X)
    np.testing.assert_array_equal(back[-1].coef_, pipe[-1].coef_)
    # the loaded pipeline is a working scikit-learn object: it clones and refits as the original
    np.testing.assert_array_equal(clone(back).fit(X, y).predict_proba(X),
                                  clone(pipe).fit(X, y).predict_proba(X))


def test_pipeline_of_every_trusted_transformer_round_trips(tmp_path, problem):
    """Imputer (with its missing-value indicator), four scalers, a variance filter, SelectKBest
    with a non-default score function, PCA, a glassnet selector and a scikit-learn classifier:
    every step's output and the predictions are the same after loading."""
    _, X, y = problem
    pipe = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), RobustScaler(), MaxAbsScaler(),
        MinMaxScaler(feature_range=(-1, 1)), StandardScaler(), VarianceThreshold(1e-3),
        SelectKBest(mutual_info_classif, k=6), PCA(n_components=5, random_state=0),
        ADMMLogisticRegression(k_max=5, i_max=20),
        LogisticRegression(),
    ).fit(X, y)
    assert pipe[-2].support_.any()  # the glassnet selector passes some columns on
    back = _round_trip(pipe, tmp_path)
    _assert_same_pipeline(back, pipe, X)
    Xt = X
    for step, loaded in zip(pipe[:-1], back[:-1]):  # each step's output, fed the same input
        np.testing.assert_array_equal(loaded.transform(Xt), step.transform(Xt))
        Xt = step.transform(Xt)
    assert back.named_steps["selectkbest"].score_func is mutual_info_classif
    names = {type(s).__name__ for s in pipe}
    assert names - {"ADMMLogisticRegression"} <= set(SKLEARN_TYPES)


def test_dataframe_feature_names_survive(tmp_path, problem):
    X, _, y = problem
    df = pd.DataFrame(X, columns=[f"gene_{i}" for i in range(X.shape[1])])
    pipe = make_pipeline(StandardScaler(), ADMMLogisticRegression(k_max=5, i_max=20)).fit(df, y)
    back = _round_trip(pipe, tmp_path)
    np.testing.assert_array_equal(back.feature_names_in_, df.columns)
    np.testing.assert_array_equal(back.predict_proba(df), pipe.predict_proba(df))
    with pytest.raises(ValueError, match="feature names"):  # the names are checked as before
        back.predict(df.rename(columns={"gene_0": "other"}))


def test_grid_search_best_estimator_round_trips(tmp_path, problem):
    X, _, y = problem
    pipe = make_pipeline(StandardScaler(), IRLSADMMNetClassifier(max_epochs=5, random_state=0))
    search = GridSearchCV(pipe, {"irlsadmmnetclassifier__lam": [0.01, 0.1]}, cv=2).fit(X, y)
    back = _round_trip(search.best_estimator_, tmp_path)
    _assert_same_pipeline(back, search.best_estimator_, X)
    assert back.get_params()["irlsadmmnetclassifier__lam"] == search.best_params_[
        "irlsadmmnetclassifier__lam"]
    with pytest.raises(ValueError, match="best_estimator_"):
        glassnet.save(search, tmp_path / "search.glassnet")


def test_a_step_outside_the_allowlist_is_refused_on_save(tmp_path, problem):
    X, _, y = problem
    pipe = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                         ADMMLogisticRegression(k_max=5, i_max=20)).fit(np.abs(X), y)
    with pytest.raises(TypeError, match="FunctionTransformer"):
        glassnet.save(pipe, tmp_path / "p.glassnet")
    scaler = StandardScaler().fit(X)
    scaler.hook_ = "extra"  # an attribute the allowlist does not declare
    with pytest.raises(TypeError, match="hook_"):
        glassnet.save(make_pipeline(scaler, ADMMLogisticRegression(k_max=5, i_max=20)).fit(X, y),
                      tmp_path / "p.glassnet")


def _probe_module(tmp_path, monkeypatch):
    """An importable module whose import would leave a marker file."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "glassnet_probe_payload.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.mark.parametrize("root", [
    {"__sklearn__": "glassnet_probe_payload:Thing", "state": {}},
    {"__sklearn__": "Thing", "state": {}},
    {"__sklearn_function__": "glassnet_probe_payload:Thing"},
    {"__estimator__": "glassnet_probe_payload:Thing", "params": {"__dict__": []},
     "state": {"__dict__": []}},
    {"__module__": "glassnet_probe_payload:Thing", "init": {"__dict__": []},
     "state": {"__dict__": []}},
    {"__dataclass__": "glassnet_probe_payload:Thing", "fields": {}},
    # a trusted pipeline whose step names an untrusted class, or an undeclared attribute
    {"__sklearn__": "Pipeline", "state": {"steps": [
        {"__tuple__": ["scale", {"__sklearn__": "StandardScaler", "state": {}}]},
        {"__tuple__": ["x", {"__sklearn__": "glassnet_probe_payload:Thing", "state": {}}]}]}},
    {"__sklearn__": "Pipeline", "state": {"steps": [], "hook": {
        "__sklearn__": "glassnet_probe_payload:Thing", "state": {}}}},
])
def test_crafted_pipeline_files_are_refused_and_import_nothing(tmp_path, monkeypatch, root):
    marker = _probe_module(tmp_path, monkeypatch)
    before = set(sys.modules)
    with pytest.raises(ValueError, match="untrusted|not declared|invalid"):
        glassnet.load(_crafted(tmp_path, root))
    assert not marker.exists(), "loading imported the module the file named"
    assert "glassnet_probe_payload" not in sys.modules
    assert not {m for m in set(sys.modules) - before if not m.startswith("sklearn.")}


def test_a_file_from_another_scikit_learn_version_warns(tmp_path, problem):
    X, _, y = problem
    pipe = make_pipeline(StandardScaler(), ADMMLogisticRegression(k_max=5, i_max=20)).fit(X, y)
    glassnet.save(pipe, tmp_path / "p.glassnet")
    with zipfile.ZipFile(tmp_path / "p.glassnet") as z:
        meta, arrays = json.loads(z.read("meta.json")), z.read("arrays.safetensors")
    meta["sklearn_version"] = "0.1"
    with zipfile.ZipFile(tmp_path / "old.glassnet", "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("arrays.safetensors", arrays)
    with pytest.warns(UserWarning, match="scikit-learn 0.1"):
        back = glassnet.load(tmp_path / "old.glassnet")
    np.testing.assert_array_equal(back.predict(X), pipe.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glassnet.load(tmp_path / "p.glassnet")  # same version: no warning


# ------------------------------------------------ bounded, strict loading (issue 25)


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("meta.json")), z.read("arrays.safetensors")


def _rewrite(path, meta, arrays, out):
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.json", meta if isinstance(meta, (str, bytes)) else json.dumps(meta))
        z.writestr("arrays.safetensors", arrays)
    return out


def _entry(items, key):
    return next(v for k, v in items["__dict__"] if k == key)


@pytest.fixture
def saved(tmp_path, fitted):
    glassnet.save(fitted[0], tmp_path / "ok.glassnet")
    return _parts(tmp_path / "ok.glassnet")


def _refused(path, *words):
    with pytest.raises(ValueError) as info:
        glassnet.load(path)
    msg = str(info.value).lower()
    assert not words or any(w in msg for w in words), msg
    return msg


@pytest.mark.parametrize("member", ["meta.json", "arrays.safetensors"])
def test_a_member_inflating_far_beyond_the_archive_is_refused_before_reading(tmp_path, member):
    import tracemalloc

    path = tmp_path / "bomb.glassnet"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        other = "arrays.safetensors" if member == "meta.json" else "meta.json"
        z.writestr(other, b"{}" if other == "meta.json" else b"")
        with z.open(member, "w", force_zip64=True) as fh:  # 200 MB of zeros: ~200 KB stored
            chunk = b"\0" * 2**20
            for _ in range(200):
                fh.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        _refused(path, "refused before reading")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * path.stat().st_size + 20 * 2**20, f"peak {peak} bytes while refusing"


def test_deeply_nested_json_and_missing_root_are_value_errors(tmp_path, saved):
    meta, arrays = saved
    deep = dict(meta, root="[" * 100_000 + "]" * 100_000)
    text = json.dumps(deep).replace('"' + "[" * 100_000 + "]" * 100_000 + '"',
                                    "[" * 100_000 + "]" * 100_000)
    _refused(_rewrite(None, text, arrays, tmp_path / "deep.glassnet"), "nests deeper")
    _refused(_rewrite(None, {k: v for k, v in meta.items() if k != "root"}, arrays,
                      tmp_path / "noroot.glassnet"), "root")


def test_a_corrupt_deflate_stream_is_a_value_error(tmp_path, saved):
    meta, arrays = saved
    path = _rewrite(None, meta, arrays, tmp_path / "z.glassnet")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("meta.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 2, start + min(info.compress_size, 40)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    _refused(path)


def test_an_array_store_whose_header_is_not_json_names_the_file(tmp_path, saved):
    """A zeroed header or undecodable bytes gave a bare JSONDecodeError / UnicodeDecodeError."""
    import struct

    meta, arrays = saved
    for name, raw in (("zeros", b"\0" * len(arrays)),
                      ("bytes", struct.pack("<Q", 8) + b"\xff" * 8),
                      ("list", struct.pack("<Q", 2) + b"[]")):
        path = _rewrite(None, meta, raw, tmp_path / f"{name}.glassnet")
        msg = _refused(path, "corrupt array store")
        assert str(path) in msg or path.name in msg


def test_save_and_load_take_file_names_not_file_objects(tmp_path, fitted):
    """save() wrote into a BytesIO that load() could not read back (TypeError from os.stat);
    a bytes file name failed inside zipfile."""
    import io

    est, X = fitted[0], fitted[1]
    with pytest.raises(TypeError, match="file name"):
        glassnet.save(est, io.BytesIO())
    with pytest.raises(TypeError, match="file name"):
        glassnet.load(io.BytesIO(b"PK"))
    path = tmp_path / "b.glassnet"
    glassnet.save(est, bytes(path))
    np.testing.assert_array_equal(glassnet.load(bytes(path)).predict(X), est.predict(X))


def test_safetensors_header_that_disagrees_with_its_payload_is_refused(tmp_path, saved):
    import struct

    meta, arrays = saved
    n = struct.unpack("<Q", arrays[:8])[0]
    header = json.loads(arrays[8:8 + n])
    key = next(k for k in header if k != "__metadata__")
    header[key]["shape"] = [10**6, 10**6]
    h = json.dumps(header).encode()
    bad = struct.pack("<Q", len(h)) + h + arrays[8 + n:]
    _refused(_rewrite(None, meta, bad, tmp_path / "st.glassnet"), "array store")


def test_module_state_and_arguments_must_agree(tmp_path, saved):
    meta, arrays = saved
    module = _entry(meta["root"]["state"], "module_")
    m1 = json.loads(json.dumps(meta))
    mod = _entry(m1["root"]["state"], "module_")
    mod["state"]["__dict__"] = mod["state"]["__dict__"][1:]  # a state_dict key missing
    _refused(_rewrite(None, m1, arrays, tmp_path / "missing.glassnet"), "does not match", "missing key")
    # init arguments asking for GBs from a file of KBs: refused from the stored sizes
    m2 = json.loads(json.dumps(meta))
    init = _entry(m2["root"]["state"], "module_")["init"]["__dict__"]
    for item in init:
        if item[0] in ("k_max", "i_max"):  # 7 features x 1e4 x 1e4 float64: 5.6 GB
            item[1] = 10**4
    _refused(_rewrite(None, m2, arrays, tmp_path / "huge.glassnet"), "more than", "does not match")
    m3 = json.loads(json.dumps(meta))
    _entry(m3["root"]["state"], "module_")["init"]["__dict__"].append(["bogus", 1])
    _refused(_rewrite(None, m3, arrays, tmp_path / "kw.glassnet"), "bad arguments", "unexpected")
    assert module["__module__"].startswith("glassnet.nn.")


def test_unknown_parameters_and_undeclared_attributes_are_refused(tmp_path, saved):
    meta, arrays = saved
    m1 = json.loads(json.dumps(meta))
    m1["root"]["params"]["__dict__"].append(["bogus", 1])
    _refused(_rewrite(None, m1, arrays, tmp_path / "p.glassnet"), "unknown parameters")
    for name in ("predict", "fit", "lam", "classes", "_validate_X"):
        m2 = json.loads(json.dumps(meta))
        m2["root"]["state"]["__dict__"].append([name, 1])
        _refused(_rewrite(None, m2, arrays, tmp_path / f"{name}.glassnet"), "not a fitted attribute")


def test_constructor_arguments_are_validated_on_load(tmp_path):
    from glassnet import SPINNRegressor

    X = np.random.default_rng(0).standard_normal((30, 3))
    est = SPINNRegressor(max_epochs=3, n_path=2, random_state=0).fit(X, X[:, 0])
    glassnet.save(est, tmp_path / "s.glassnet")
    meta, arrays = _parts(tmp_path / "s.glassnet")
    for name, bad in (("lam", "x"), ("lr", 0.0), ("hidden", {"__tuple__": [0]})):
        m = json.loads(json.dumps(meta))
        for item in m["root"]["params"]["__dict__"]:
            if item[0] == name:
                item[1] = bad
        msg = _refused(_rewrite(None, m, arrays, tmp_path / f"{name}.glassnet"))
        assert f"'{name}' parameter" in msg


def test_a_record_tag_cannot_build_an_estimator_or_a_module(tmp_path):
    for name in ("glassnet.estimators.base:GlassnetEstimator", "glassnet.nn.spinn:SPINN",
                 "glassnet.training:History", "glassnet.stability:StabilitySelection"):
        root = {"__dataclass__": name, "fields": {"predict": 1}}
        _refused(_crafted(tmp_path, root), "not a glassnet record", "fields", "method")


def test_huge_list_array_dtype_is_refused_before_allocating(tmp_path):
    root = {"__ndarray_list__": ["a"], "dtype": "<U100000000", "shape": [1]}
    _refused(_crafted(tmp_path, root), "exceeds")
    root = {"__ndarray_list__": ["a"], "dtype": "<U1", "shape": [10**12]}
    _refused(_crafted(tmp_path, root), "exceeds")


def test_a_file_naming_a_glassnet_module_outside_the_models_imports_nothing(tmp_path):
    for mod in ("glassnet.experiments.spinn_simulation", "glassnet.cli", "glassnet.train_cli"):
        sys.modules.pop(mod, None)
        before = set(sys.modules)
        root = {"__estimator__": f"{mod}:Thing", "params": {"__dict__": []},
                "state": {"__dict__": []}}
        _refused(_crafted(tmp_path, root), "untrusted")
        assert mod not in sys.modules and not set(sys.modules) - before


# ------------------------------------------------ declared fitted attributes (issue 25)
def _declaring():
    from battery import public_estimators

    return [c for c in public_estimators() if isinstance(getattr(c, "_fitted_attributes", None), dict)]


def test_every_public_estimator_declares_its_fitted_attributes():
    from battery import public_estimators

    assert {c.__name__ for c in _declaring()} == {c.__name__ for c in public_estimators()}


@pytest.mark.parametrize("cls", _declaring(), ids=lambda c: c.__name__)
def test_every_fitted_attribute_is_declared_with_its_type(cls, tmp_path):
    """What fit sets is what the class declares (so save writes it and load accepts it)."""
    from battery import data_for, fit
    from glassnet.estimators.checks import fast_instance
    from glassnet.persistence_checks import value_has_type

    est = fast_instance(cls)
    X, y = data_for(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(est, X, y)
    declared = cls._fitted_attributes
    fitted = {k: v for k, v in vars(est).items() if k not in est.get_params(deep=False)}
    assert fitted and set(fitted) <= set(declared), sorted(set(fitted) - set(declared))
    for k, v in fitted.items():
        assert value_has_type(v, declared[k]), (k, type(v), declared[k])
    glassnet.save(est, tmp_path / "m.glassnet")
    assert set(vars(glassnet.load(tmp_path / "m.glassnet"))) == set(vars(est))


def test_a_declared_estimator_refuses_undeclared_names_and_wrong_types(tmp_path):
    from glassnet import DSRLClustering

    X = np.random.default_rng(0).standard_normal((30, 3))
    est = DSRLClustering(2, max_epochs=2, n_init=2, random_state=0).fit(X)
    est.extra_ = 1.0
    with pytest.raises(TypeError, match="extra_: not a fitted attribute DSRLClustering declares"):
        glassnet.save(est, tmp_path / "x.glassnet")
    del est.extra_
    glassnet.save(est, tmp_path / "ok.glassnet")
    meta, arrays = _parts(tmp_path / "ok.glassnet")
    for key, value, words in (("extra_", 1.0, "not a fitted attribute"),
                              ("labels_", "x", "not the declared array"),
                              ("graph_", {"__tuple__": [1]}, "not the declared sparse"),
                              ("view_dims_", [1.5], "not the declared list[int]"),
                              ("n_views_", True, "not the declared int")):
        m = json.loads(json.dumps(meta))
        items = m["root"]["state"]["__dict__"]
        items[:] = [it for it in items if it[0] != key] + [[key, value]]
        _refused(_rewrite(None, m, arrays, tmp_path / f"{key}.glassnet"), words)
    assert isinstance(glassnet.load(tmp_path / "ok.glassnet"), DSRLClustering)


@pytest.mark.parametrize("rng", [np.random.default_rng(3), np.random.RandomState(3),
                                 np.random.Generator(np.random.Philox(5))])
def test_a_numpy_generator_as_random_state_round_trips(tmp_path, rng):
    """``random_state`` may be a ``Generator`` or ``RandomState`` (saving one used to raise a
    TypeError): it comes back in the same state, and the predictions are identical."""
    from glassnet import SPINNRegressor

    X = np.random.default_rng(0).standard_normal((40, 4))
    est = SPINNRegressor(max_epochs=3, random_state=rng).fit(X, X[:, 0])
    glassnet.save(est, tmp_path / "m.glassnet")
    back = glassnet.load(tmp_path / "m.glassnet")
    r = back.get_params()["random_state"]
    assert type(r) is type(rng)
    draw = "random" if isinstance(rng, np.random.Generator) else "random_sample"
    np.testing.assert_array_equal(getattr(r, draw)(3), getattr(rng, draw)(3))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    meta, arrays = _parts(tmp_path / "m.glassnet")
    rs = _entry(meta["root"]["params"], "random_state")
    for key, value in (("__rng__", "Pickle"), ("state", {"__dict__": [["bit_generator", "Evil"]]})):
        bad = json.loads(json.dumps(meta))
        _entry(bad["root"]["params"], "random_state")[key] = value
        assert rs[key] != value
        _refused(_rewrite(None, bad, arrays, tmp_path / "bad.glassnet"), "unknown random generator")


def test_object_labels_of_numpy_strings_round_trip(tmp_path, problem):
    X, _, y = problem
    labels = np.array([np.str_("no"), np.str_("yes")], dtype=object)[y]
    est = ADMMLogisticRegression().fit(X, labels)
    back = _round_trip(est, tmp_path)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_set_output_survives_save_and_metadata_requests_are_named(tmp_path, problem):
    """``set_output(transform="pandas")`` on an estimator or a pipeline used to make saving fail
    (an undeclared ``_sklearn_output_config``); routing requests are refused with a reason."""
    import sklearn

    from glassnet import SPINNClassifier

    X, _, y = problem
    frame = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    kw = {"max_epochs": 5, "n_path": 2, "random_state": 0}
    for est in (SPINNClassifier(**kw).set_output(transform="pandas"),
                make_pipeline(StandardScaler(), SPINNClassifier(**kw)).set_output(transform="pandas")):
        est.fit(frame, y)
        back = _round_trip(est, tmp_path)
        out = back.transform(frame) if hasattr(back, "get_support") else back[:-1].transform(frame)
        assert isinstance(out, pd.DataFrame)
        np.testing.assert_array_equal(back.predict(frame), est.predict(frame))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = SPINNClassifier(**kw).set_fit_request(sample_weight=True).fit(X, y)
        with pytest.raises(TypeError, match="metadata routing requests"):
            glassnet.save(routed, tmp_path / "r.glassnet")


def _records(node):
    """Every dataclass record in a meta.json tree."""
    if isinstance(node, dict):
        if "__dataclass__" in node:
            yield node
        for v in node.values():
            yield from _records(v)
    elif isinstance(node, list):
        for v in node:
            yield from _records(v)


def test_a_record_written_before_a_field_was_added_loads_with_its_default(tmp_path):
    """``History.converged`` is new: a file whose history lacks it (written before) loads with
    the field's default and predicts the same; a field the record does not have is refused."""
    from glassnet import MatNetClassifier

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3, 3)), np.arange(30) % 2
    est = MatNetClassifier(hidden_shapes=[(2, 2)], max_epochs=3, random_state=0).fit(X, y)
    glassnet.save(est, tmp_path / "m.glassnet")
    meta, arrays = _parts(tmp_path / "m.glassnet")
    (hist,) = [r for r in _records(meta) if r["__dataclass__"].endswith("History")]
    del hist["fields"]["converged"]
    old = glassnet.load(_rewrite(None, meta, arrays, tmp_path / "old.glassnet"))
    assert old.history_.converged is False and old.history_.train_loss == est.history_.train_loss
    np.testing.assert_array_equal(old.predict_proba(X), est.predict_proba(X))
    hist["fields"]["bogus"] = 1
    with pytest.raises(ValueError, match="fields .* are not those of History"):
        glassnet.load(_rewrite(None, meta, arrays, tmp_path / "bad.glassnet"))
