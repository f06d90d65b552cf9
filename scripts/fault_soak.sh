#!/usr/bin/env bash
# The long fault run: kill -9 source and destination regions during mixed workloads (plain, and
# versioned with metadata and multipart uploads),
# CYCLES times (default 100), then check nothing was lost.  CI runs the same test with 20.
#   bash scripts/fault_soak.sh [CYCLES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export FERRY_FAULT_CYCLES="${1:-100}"
[ -n "${2:-}" ] && export FERRY_FAULT_SEED="$2"
exec "$PY" -m pytest -s -q -p no:cacheprovider -o timeout=3600 \
    tests/integration/test_replication_faults.py
