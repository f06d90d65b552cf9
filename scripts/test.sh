#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs into .venv,
# then runs ruff, mypy and pytest (unit, integration against real Ferry processes).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== ruff"
.venv/bin/ruff check src tests benchmarks conformance
.venv/bin/ruff format --check src tests benchmarks conformance
echo "== mypy"
.venv/bin/mypy
echo "== oss2 conformance (the SDK's own test suite against Ferry)"
set +e
PYTHON=.venv/bin/python bash conformance/oss2/run
conformance=$?
echo "== pytest"
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
if [ "$conformance" -ne 0 ]; then
    echo "the oss2 conformance run failed (see above)" >&2
    exit 1
fi
exit "$status"
