"""Count the outcomes of the bad-input battery over every public estimator (issue 7 targets)
and of bad constructor arguments (issue 25).

    .venv/bin/python benchmarks/audit_inputs.py              # data cases
    .venv/bin/python benchmarks/audit_inputs.py --params     # constructor arguments
    .venv/bin/python benchmarks/audit_inputs.py --params --write-cases cases.pkl
    PYTHONPATH=/tmp/old/src python benchmarks/audit_inputs.py --params --cases cases.pkl

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


def main_params(argv):
    import argparse
    import pickle

    ap = argparse.ArgumentParser()
    ap.add_argument("--params", action="store_true")
    ap.add_argument("--per-param", type=int, default=5)
    ap.add_argument("--hang", type=int, default=20)
    ap.add_argument("--cases")
    ap.add_argument("--write-cases")
    args = ap.parse_args(argv)
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


if __name__ == "__main__":
    if "--params" in sys.argv[1:]:
        raise SystemExit(main_params(sys.argv[1:]))
    raise SystemExit(main())
