#!/bin/sh
# strategies.sh — cutune's search strategies against Kernel Tuner's, side by side, on the
# recorded spaces in data/spaces (see bench/strategies.py for what is run and how it is
# scored). Installs Kernel Tuner into build/kt-venv the first time (needs PyPI once).
#
# usage: bench/strategies.sh [options of strategies.py, e.g. --repeats 20]
set -eu
cd "$(dirname "$0")/.."
KT_VERSION=1.5.0
VENV=build/kt-venv

[ -x build/cutune ] || make build
if ! "$VENV/bin/python" -c "import kernel_tuner" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "kernel_tuner==$KT_VERSION"
fi
exec "$VENV/bin/python" bench/strategies.py --cli build/cutune "$@"
