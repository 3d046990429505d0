#!/usr/bin/env bash
# The main job: set up (idempotent), then reproduce the seed's figures. Extra flags pass through,
# e.g. `bash scripts/seed-figure.sh --quick` or `--dataset mnist --data-dir DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# --resume: running the main job again continues a killed run or reuses a finished one instead of refusing
exec .venv/bin/sparsenet reproduce seed-figure --resume "$@"
