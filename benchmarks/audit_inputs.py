"""Count the outcomes of the bad-input battery over every public estimator (issue 7 targets)
and of bad constructor arguments (issue 25).

    .venv/bin/python benchmarks/audit_inputs.py              # data cases
    .venv/bin/python benchmarks/audit_inputs.py --params     # constructor arguments
    .venv/bin/python benchmarks/audit_inputs.py --params --write-cases cases.pkl
    PYTHONPATH=/tmp/old/src python benchmarks/audit_inputs.py --params --cases cases.pkl
    .venv/bin/python benchmarks/audit_inputs.py --files      # crafted saved files

``--params``: for every declared constructor argument, up to ``--per-param`` invalid values
generated from the declarations (``tests/battery.py``), each fitted on the battery's tiny data;
a clear error is a ``ValueError`` whose message names the parameter, a misleading error one that
does not, a crash any other exception, a silent acceptance a fit that ends without error, a
hang no answer within ``--hang`` seconds. ``--write-cases`` / ``--cases`` run the same cases on
another checkout (e.g. the code before the declarations, extracted with ``git archive``).

Outcome classes: clear error, correct result, crash (an unexpected exception type), misleading
or unclear error, silent failure (bad input accepted or a wrong result), hang (no answer
within the alarm). The battery itself is ``tests/battery.py``; the test suite runs the same
cases and fails on anything but a clear error or a correct result.
"""

from __future__ import annotations

import collections
import os
import signal
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from battery import CASES, data_for, fit, param_cases, public_estimators, run_case

HANG = 120


def _alarm(*_):
    raise TimeoutError


def classify(cls, case):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {"error": "clear error", "ok": "correct result"}[run_case(cls, case)], ""
    except TimeoutError:
        return "hang", ""
    except AssertionError as err:
        msg = str(err)
        kind = "misleading error" if ("misleading" in msg or "unclear" in msg) else "silent failure"
        return kind, msg.splitlines()[0][:120]
    except Exception as err:  # noqa: BLE001 - a crash is what we count
        return "crash", f"{type(err).__name__}: {str(err).splitlines()[0][:100] if str(err) else ''}"
    finally:
        signal.alarm(0)


def main():
    counts = collections.Counter()
    problems = []
    ests = public_estimators()
    for cls in ests:
        for case in sorted(CASES):
            kind, detail = classify(cls, case)
            counts[kind] += 1
            if kind not in ("clear error", "correct result"):
                problems.append(f"{cls.__name__:24s} {case:22s} {kind}: {detail}")
    total = sum(counts.values())
    print(f"{len(ests)} estimators x {len(CASES)} input classes = {total} inputs")
    for kind in ("clear error", "correct result", "crash", "misleading error", "silent failure", "hang"):
        print(f"  {kind:18s} {counts[kind]}")
    for line in problems:
        print("  " + line)
    return 0 if len(problems) == 0 else 1


def _prioritised(values, k):
    """At most ``k`` values: the interval ends and special numbers first, then the rest."""
    import math

    def rank(v):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return 0
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return 1
        return 2 if isinstance(v, str) else 3
    return sorted(values, key=rank)[:k]


def param_case_list(per_param):
    out = []
    for cls in public_estimators():
        names = {}
        for name, v in param_cases(cls):
            names.setdefault(name, []).append(v)
        out += [(cls.__name__, name, v) for name, vals in sorted(names.items())
                for v in _prioritised(vals, per_param)]
    return out


def classify_param(cls, name, value, hang):
    import re

    from glassnet.estimators.checks import fast_instance

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(hang)
    try:
        est = fast_instance(cls, **{name: value})
        X, y = data_for(est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(est, X, y)
        return "silent acceptance", ""
    except TimeoutError:
        return "hang", ""
    except ValueError as err:
        msg = str(err)
        if re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", msg):
            return "clear error", ""
        return "misleading error", msg.splitlines()[0][:110] if msg else ""
    except Exception as err:  # noqa: BLE001 - a crash is what we count
        return "crash", f"{type(err).__name__}: {str(err).splitlines()[0][:100] if str(err) else ''}"
    finally:
        signal.alarm(0)


def _parser():
    import argparse

    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--params", action="store_true", help="bad constructor arguments (default: data cases)")
    mode.add_argument("--files", action="store_true", help="crafted saved files")
    ap.add_argument("--per-param", type=int, default=5, help="--params: invalid values per argument")
    ap.add_argument("--hang", type=int, default=20, help="--params: seconds before a fit counts as a hang")
    ap.add_argument("--cases", help="--params: run the cases pickled in this file")
    ap.add_argument("--write-cases", help="--params: pickle the cases to this file and stop")
    return ap


def main_params(argv):
    import pickle

    args = _parser().parse_args(argv)
    if args.cases:
        with open(args.cases, "rb") as fh:
            cases = pickle.load(fh)
    else:
        cases = param_case_list(args.per_param)
    if args.write_cases:
        with open(args.write_cases, "wb") as fh:
            pickle.dump(cases, fh)
        print(f"{len(cases)} cases written to {args.write_cases}")
        return 0
    classes = {c.__name__: c for c in public_estimators()}
    counts, problems = collections.Counter(), []
    for est_name, name, value in cases:
        cls = classes.get(est_name)
        if cls is None:
            counts["estimator missing"] += 1
            continue
        kind, detail = classify_param(cls, name, value, args.hang)
        counts[kind] += 1
        if kind != "clear error":
            problems.append(f"{est_name:24s} {name}={value!r:.30} {kind}: {detail}")
    print(f"{len(cases)} constructor-argument cases over {len({c[0] for c in cases})} estimators")
    for kind in ("clear error", "crash", "misleading error", "silent acceptance", "hang",
                 "estimator missing"):
        print(f"  {kind:18s} {counts[kind]}")
    for line in problems:
        print("  " + line)
    return 0 if not problems else 1


# ------------------------------------------------------------ crafted files (issue 25)


def _crafted_files(folder):
    """``{name: path}`` of bad files built from one good saved model."""
    import json
    import struct
    import zipfile

    import numpy as np

    import glassnet
    from glassnet import ADMMLogisticRegression, SPINNRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4))
    files = {}
    good = os.path.join(folder, "good.glassnet")
    glassnet.save(ADMMLogisticRegression(k_max=5, i_max=20).fit(X, (X[:, 0] > 0).astype(int)), good)
    with zipfile.ZipFile(good) as z:
        meta, arrays = json.loads(z.read("meta.json")), z.read("arrays.safetensors")
    spinn = os.path.join(folder, "spinn.glassnet")
    glassnet.save(SPINNRegressor(max_epochs=3, n_path=2, random_state=0).fit(X, X[:, 0]), spinn)
    with zipfile.ZipFile(spinn) as z:
        smeta, sarrays = json.loads(z.read("meta.json")), z.read("arrays.safetensors")

    def write(name, meta_text, arr, bomb=None):
        path = os.path.join(folder, name + ".glassnet")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for member, data in (("meta.json", meta_text), ("arrays.safetensors", arr)):
                if member == bomb:
                    with z.open(member, "w", force_zip64=True) as fh:
                        for _ in range(1024):
                            fh.write(b"\0" * 2**20)  # 1 GB of zeros, ~1 MB stored
                else:
                    z.writestr(member, data if isinstance(data, (bytes, str)) else json.dumps(data))
        files[name] = path

    def edit(m, fn):
        m = json.loads(json.dumps(m))
        fn(m)
        return m

    def entry(items, key):
        return next(v for k, v in items["__dict__"] if k == key)

    write("meta_bomb_1GB", meta, arrays, bomb="meta.json")
    write("arrays_bomb_1GB", meta, arrays, bomb="arrays.safetensors")
    write("deep_json", json.dumps(dict(meta, root=0)).replace('"root": 0', '"root": ' + "[" * 10**5
                                                              + "]" * 10**5), arrays)
    write("no_root", {k: v for k, v in meta.items() if k != "root"}, arrays)
    write("huge_U_dtype", dict(meta, root={"__ndarray_list__": ["a"], "dtype": "<U100000000",
                                           "shape": [1]}), arrays)

    def huge_module(m):
        for item in entry(m["root"]["state"], "module_")["init"]["__dict__"]:
            if item[0] in ("k_max", "i_max"):
                item[1] = 10**4
    write("module_args_5GB", edit(meta, huge_module), arrays)
    write("module_key_missing", edit(meta, lambda m: entry(m["root"]["state"], "module_")["state"][
        "__dict__"].pop(0)), arrays)
    write("unknown_param", edit(meta, lambda m: m["root"]["params"]["__dict__"].append(["bogus", 1])),
          arrays)
    write("predict_attribute", edit(meta, lambda m: m["root"]["state"]["__dict__"].append(
        ["predict", 1])), arrays)

    def bad_lam(m):
        for item in m["root"]["params"]["__dict__"]:
            if item[0] == "lam":
                item[1] = "x"
    write("lam_string", edit(smeta, bad_lam), sarrays)
    write("dataclass_estimator", dict(meta, root={"__dataclass__": "glassnet.estimators.base:"
                                                  "GlassnetEstimator", "fields": {}}), arrays)
    write("experiments_module", dict(meta, root={"__estimator__": "glassnet.experiments.spinn_"
                                                 "simulation:X", "params": {"__dict__": []},
                                                 "state": {"__dict__": []}}), arrays)
    n = struct.unpack("<Q", arrays[:8])[0]
    header = json.loads(arrays[8:8 + n])
    key = next(k for k in header if k != "__metadata__")
    header[key]["shape"] = [10**5, 10**5]
    h = json.dumps(header).encode()
    write("safetensors_header_lies", meta, struct.pack("<Q", len(h)) + h + arrays[8 + n:])
    corrupt = os.path.join(folder, "zlib_corrupt.glassnet")
    with open(good, "rb") as fh:
        data = bytearray(fh.read())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("meta.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 2, start + min(info.compress_size, 40)):
        data[i] ^= 0xFF
    with open(corrupt, "wb") as fh:
        fh.write(bytes(data))
    files["zlib_corrupt"] = corrupt
    return files


# peak RSS of the load alone: Linux resets the high-water mark (VmHWM) on "5" > clear_refs
_CHILD = """
import sys, warnings
import glassnet, torch
def status(key):
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))
warnings.simplefilter('ignore')
for good in sys.argv[2:]:  # imports of the estimators' modules are not the load's memory
    glassnet.load(good)
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
before = status('VmRSS:')
try:
    glassnet.load(sys.argv[1])
    kind = 'loaded'
except Exception as err:
    kind = type(err).__name__
peak = status('VmHWM:')
mods = sorted(m for m in sys.modules if m.startswith('glassnet.experiments'))
print(kind, max(0, peak - before), ','.join(mods) or '-')
"""


def main_files():
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        files = _crafted_files(folder)
        print(f"{len(files)} crafted files (target: every one a ValueError, peak memory while "
              "refusing under 10x the file size + 200 MB, no module imported)")
        bad = 0
        for name, path in files.items():
            goods = [os.path.join(folder, g) for g in ("good.glassnet", "spinn.glassnet")]
            out = subprocess.run([sys.executable, "-c", _CHILD, path, *goods], check=False,
                                 capture_output=True,
                                 text=True, timeout=600).stdout.split()
            kind, extra, mods = out[0], int(out[1]), out[2]
            size = os.path.getsize(path)
            ok = kind == "ValueError" and extra < 10 * size + 200 * 2**20 and mods == "-"
            bad += not ok
            print(f"  {name:24s} {size / 2**20:7.2f} MB  {kind:12s} peak +{extra / 2**20:7.1f} MB"
                  f"  imported: {mods}  {'ok' if ok else 'FAIL'}")
        return int(bad > 0)


if __name__ == "__main__":
    _args = _parser().parse_args()  # every mode: --help prints usage, unknown arguments are refused
    if _args.files:
        raise SystemExit(main_files())
    if _args.params:
        raise SystemExit(main_params(sys.argv[1:]))
    raise SystemExit(main())
