#!/usr/bin/env bash
# Creates .venv with sparsenet and its pinned dependencies (torch==2.13.0 CPU), and installs the
# Fashion-MNIST dataset (Debian package) when it is missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y dataset-fashion-mnist >/dev/null 2>&1 || \
      { $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y dataset-fashion-mnist >/dev/null; } || \
      echo "warning: could not install dataset-fashion-mnist; real-data tests will skip" >&2
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e ".[test]"
