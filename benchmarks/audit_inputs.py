"""Count the outcomes of the bad-input battery over every public estimator (issue 7 targets).

    .venv/bin/python benchmarks/audit_inputs.py

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

from battery import CASES, public_estimators, run_case  # noqa: E402

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


if __name__ == "__main__":
    raise SystemExit(main())
