#!/bin/sh
# test_python.sh — the Python package's tests, on the package as the README installs it: a
# venv over Debian's python3 (its numpy and pytest), `pip install ./python` with this build's
# libcutune, then pytest from outside the source tree.
#   MODE cpu: every test but the GPU ones; MODE gpu: the GPU ones (exit 77 when all skip)
# usage: test_python.sh MODE LIBCUTUNE CLI VENV
set -u
mode=$1 lib=$2 cli=$3 venv=$4
repo=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
"$py" -c 'import numpy, pytest' 2>/dev/null || py=python3
"$py" -c 'import numpy, pytest' || { echo "numpy and pytest are needed: scripts/deps.sh"; exit 1; }
rm -rf "$venv"
"$py" -m venv --system-site-packages "$venv" || exit 1
CUTUNE_LIBRARY=$lib "$venv/bin/pip" install -q --no-build-isolation --no-index --no-deps \
    "$repo/python" || exit 1
cd "$venv" || exit 1 # away from the source tree: `import cutune` is the installed package
if [ "$mode" = gpu ]; then
    out=$(CUTUNE_CLI=$cli "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider \
          "$repo/python/tests/test_gpu.py" 2>&1)
    rc=$?
    echo "$out"
    if [ $rc -eq 0 ] && ! echo "$out" | grep -q " passed"; then
        echo "skipped: $(echo "$out" | grep -m1 -o 'no GPU: .*')"
        exit 77
    fi
    exit $rc
fi
CUTUNE_CLI=$cli exec "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --ignore="$repo/python/tests/test_gpu.py" "$repo/python/tests"
