"""Loading a file never runs code (DESIGN.md rule 16, issue 7)."""

from __future__ import annotations

import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest

import glassnet
from glassnet import ADMMLogisticRegression
from glassnet.persistence import FORMAT, FORMAT_VERSION


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
    {"__sklearn__": "Pipeline", "state": {}},
    {"__npscalar__": "|O", "value": 1},
])
def test_crafted_files_naming_untrusted_types_are_refused(tmp_path, root):
    with pytest.raises(ValueError, match="untrusted|not allowed|invalid"):
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
