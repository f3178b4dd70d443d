#!/usr/bin/env bash
# The one prepared run on a machine with a CUDA GPU (issue 28), from the checkout's root:
#   OUT=some/folder bash benchmarks/gpu_check.sh
# 1. the CUDA tests and the device / training / invertible tests beside them;
# 2. benchmarks/bench_gpu.py (estimators CPU vs CUDA, training memory, glassnet train --amp);
# 3. the rest of the default test suite, on a machine where CUDA is visible.
# Uses the machine's python3 and its packages (no install); each step has its own time limit and
# writes its log under $OUT, so a step that runs out still leaves the others' results.
# BENCH / BENCH2: arguments for step 2's bench_gpu.py (BENCH2, when set, runs it a second time
# into $OUT/gpu2); SUITE=0 leaves out step 3. The device tool brings back 8 files at most, so
# the gpu.md summaries (rebuilt from the CSVs anywhere) are removed at the end.
set -uo pipefail
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}
nvidia-smi -L
$PY -c "import torch, sklearn, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'sklearn', sklearn.__version__, 'numpy', numpy.__version__)"
FIRST="tests/test_cuda.py tests/test_devices.py tests/test_optnets_training.py tests/test_invertible.py"
echo "== 1. CUDA and device tests"
# shellcheck disable=SC2086
timeout "${T1:-120}" $PY -m pytest -q -rfEs -p no:cacheprovider -p no:benchmark -n 8 $FIRST 2>&1 \
  | tee "$OUT/cuda_tests.log" | grep -v "^SKIPPED" | tail -40
echo "== 2. bench_gpu.py"
# shellcheck disable=SC2086
timeout "${T2:-220}" $PY benchmarks/bench_gpu.py --out "$OUT/gpu" ${BENCH:-} 2>&1 \
  | grep -v "^epoch" | tee "$OUT/bench.log" | tail -45
if [ -n "${BENCH2:-}" ]; then
  # shellcheck disable=SC2086
  timeout "${T2B:-120}" $PY benchmarks/bench_gpu.py --out "$OUT/gpu2" $BENCH2 2>&1 \
    | grep -v "^epoch" | tee -a "$OUT/bench.log" | tail -20
fi
rm -f "$OUT"/gpu*/gpu.md
[ "${SUITE:-1}" = 0 ] && exit 0
echo "== 3. the rest of the default suite"
ignores=""
for f in $FIRST; do ignores="$ignores --ignore=$f"; done
# shellcheck disable=SC2086
timeout "${T3:-150}" $PY -m pytest -q -rfE -p no:cacheprovider -p no:benchmark -n 14 $ignores 2>&1 \
  | tee "$OUT/suite.log" | tail -40
