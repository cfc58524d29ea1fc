#!/bin/sh
# deps.sh — makes sure the Debian packages the build needs are installed. As root it installs
# what is missing with apt-get; otherwise it prints the exact apt-get line and fails.
# The CUDA toolkit is optional (CPU-only build without it) and is not a Debian package here.
# Open MPI (distributed tuning, cutune-mpi) is optional to the build, but installed here.
# The Python package's tests run on Debian's python3 with its numpy and pytest, in a venv
# (python3-venv, pip and setuptools install the package there without the network).
set -u
# command or file that shows the package is there : package
NEEDS="
cmake:cmake
python3:python3
cc:gcc
make:make
pkg-config:pkg-config
clang:clang
/usr/include/jansson.h:libjansson-dev
/usr/include/zlib.h:zlib1g-dev
/usr/include/xxhash.h:libxxhash-dev
/usr/include/sqlite3.h:libsqlite3-dev
/usr/include/x86_64-linux-gnu/urcu-bp.h:liburcu-dev
/usr/include/lapacke.h:liblapacke-dev
/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a:libopenblas-dev
gnuplot:gnuplot-nox
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev
/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h:libopenmpi-dev
orterun:openmpi-bin
/usr/lib/python3/dist-packages/numpy:python3-numpy
/usr/lib/python3/dist-packages/pytest:python3-pytest
/usr/lib/python3/dist-packages/setuptools:python3-setuptools
/usr/lib/python3/dist-packages/pip:python3-pip
/usr/share/doc/python3-venv:python3-venv
"
missing=""
for need in $NEEDS; do
    what=${need%%:*}
    pkg=${need#*:}
    case $what in
    /*) [ -e "$what" ] && continue ;;
    *) command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    # a different clang version may ship the fuzzer runtime elsewhere
    if [ "$pkg" = libclang-rt-14-dev ] && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
        continue
    fi
    missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: run as root:  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "deps.sh: apt-get install$missing failed" >&2
    exit 1
}
echo "deps.sh: installed$missing"
