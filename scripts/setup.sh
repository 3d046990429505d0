#!/usr/bin/env bash
# Creates a virtual environment (default .venv; VENV=DIR picks another) with sparsenet, installs
# the tested torch first (torch==2.13.0, CPU build), and the Fashion-MNIST dataset (Debian package)
# when it is missing. Safe to run again.
#
# torch comes first so that resolving sparsenet's own range ("torch>=2.4,<2.14") finds it
# installed and downloads nothing: a fresh machine gets no CUDA packages. The CPU wheel comes from
# pip's configured indexes / find-links (a local wheel of torch 2.13.0+cpu is taken as is), or from
# the PyTorch CPU index when that is reachable; TORCH_INDEX_URL=URL forces an index.
# With your own (e.g. CUDA) torch, do not run this: `pip install -e ".[test]"` in your environment
# keeps the torch you have (README, Set-up).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
TORCH_PIN="torch==2.13.0"
CPU_INDEX="https://download.pytorch.org/whl/cpu"
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y dataset-fashion-mnist >/dev/null 2>&1 || \
      { $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y dataset-fashion-mnist >/dev/null; } || \
      echo "warning: could not install dataset-fashion-mnist; real-data tests will skip" >&2
  fi
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if [ -z "${TORCH_INDEX_URL:-}" ] \
   && ! "$VENV/bin/pip" install -q --dry-run --no-deps --no-index "$TORCH_PIN" >/dev/null 2>&1 \
   && "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$CPU_INDEX/torch/', timeout=5)" \
      >/dev/null 2>&1; then
  TORCH_INDEX_URL="$CPU_INDEX"  # no local wheel: take the CPU build from PyTorch's index
fi
"$VENV/bin/pip" install -q "$TORCH_PIN" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
"$VENV/bin/pip" install -q -e ".[test,ray]"
