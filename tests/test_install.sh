#!/bin/sh
# test_install.sh — libcutune as an application sees it: `cmake --install` of this build
# into a temporary prefix (nothing is rebuilt), then examples/app built against it with
# CMake's find_package(cutune) (shared, and static: cutune::cutune_static) and with
# pkg-config, and the binaries run: before any
# profile (every size runs or selects the default, and says so) and after one is stored
# (exact at the tuned size, nearest size at the others). Without a GPU the app exits 3 and
# shows what it selects for a described GPU; with one it launches and exits 0.
# usage: test_install.sh BUILD_DIR SOURCE_DIR CC [CUDA_INCLUDE_DIR CUDA_LIBRARY_DIR]
set -u
build=$1 src=$2 cc=$3 cuda_inc=${4:-} cuda_lib=${5:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
die() { echo "test_install: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; die "cmake --install failed"; }
pc=$(find "$prefix" -name cutune.pc)
[ -n "$pc" ] || die "no cutune.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in bin/cutune include/cutune.h share/man/man1/cutune.1 share/cutune/kernels/sgemm.json \
         share/cutune/kernels/sgemm.cu; do
    [ -f "$prefix/$f" ] || die "$f not installed"
done
for f in libcutune.a libcutune.so.0.1.0 cmake/cutune/cutune-config.cmake \
         cmake/cutune/cutune-config-version.cmake; do
    [ -f "$libdir/$f" ] || die "$libdir/$f not installed"
done
[ "$(readlink "$libdir/libcutune.so")" = libcutune.so.0 ] &&
    [ "$(readlink "$libdir/libcutune.so.0")" = libcutune.so.0.1.0 ] ||
    die "libcutune.so -> libcutune.so.0 -> libcutune.so.0.1.0 links missing"
"$prefix/bin/cutune" --version | grep -q "^cutune " || die "the installed CLI does not run"

# 1. CMake: find_package(cutune) through CMAKE_PREFIX_PATH
cmake -S "$src/examples/app" -B "$tmp/app-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/app-cmake" >>"$tmp/cmake.log" 2>&1 ||
    { cat "$tmp/cmake.log"; die "examples/app does not build with find_package(cutune)"; }
grep "cutune_app:" "$tmp/cmake.log"
# ... and static (cutune::cutune_static): it must need none of the third-party libraries,
# nor libcutune.so or libcudart.so, where it runs
cmake -S "$src/examples/app" -B "$tmp/app-static" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release -DCUTUNE_APP_STATIC=ON \
      >"$tmp/static.log" 2>&1 && cmake --build "$tmp/app-static" >>"$tmp/static.log" 2>&1 ||
    { cat "$tmp/static.log"; die "examples/app does not build with cutune::cutune_static"; }
needed=$(readelf -d "$tmp/app-static/cutune_app" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
if echo "$needed" | grep -E 'cutune|jansson|sqlite|urcu|xxhash|lapacke|openblas|gfortran|libz\.|cudart'; then
    die "the static cutune_app still needs the shared libraries above"
fi

# 2. pkg-config, with the CUDA runtime when cutune has CUDA and the toolkit is here
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exists cutune || die "pkg-config does not find cutune in $PKG_CONFIG_PATH"
kernels=$(pkg-config --variable=kernelsdir cutune)
[ -f "$kernels/sgemm.json" ] || die "pkg-config's kernelsdir ($kernels) has no sgemm.json"
cuda_flags=""
if [ "$(pkg-config --variable=cuda cutune)" = ON ] && [ -f "$cuda_inc/cuda_runtime.h" ]; then
    cuda_flags="-DCUTUNE_APP_CUDA=1 -I$cuda_inc -L$cuda_lib -lcudart_static -ldl -lrt -lpthread"
fi
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -Wall -Wextra -Werror -DCUTUNE_APP_KERNELS_DIR="\"$kernels\"" \
      $(pkg-config --cflags cutune) "$src/examples/app/app.c" -o "$tmp/app-pc" \
      $(pkg-config --libs cutune) $cuda_flags -Wl,-rpath,"$libdir" -lm ||
    die "examples/app does not build with pkg-config"
"$cc" -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags cutune) \
      "$src/tests/install_seed.c" -o "$tmp/seed" $(pkg-config --libs cutune) \
      -Wl,-rpath,"$libdir" || die "install_seed does not build with pkg-config"
# the static library links too (pkg-config --static)
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 "$src/tests/install_seed.c" -o "$tmp/seed-static" $(pkg-config --cflags cutune) \
      "$libdir/libcutune.a" $(pkg-config --static --libs-only-other --libs-only-l cutune |
                              sed 's/-lcutune//') -L"$libdir" ||
    die "install_seed does not link libcutune.a with pkg-config --static"

# expect NAME RC GREP-PATTERN...: runs the app, checks its exit status and output
check() {
    name=$1 log=$tmp/$1.log want=$2
    shift 2
    "$@" >"$log" 2>&1
    rc=$?
    sed "s/^/  $name| /" "$log"
    if grep -q "^no CUDA device" "$log"; then
        [ $rc -eq 3 ] || die "$name: no CUDA device, yet exit $rc (want 3)"
        for pattern in $want; do
            grep -qE "$(echo "$pattern" | tr _ ' ')" "$log" || die "$name: no '$pattern' in its output"
        done
    else
        [ $rc -eq 0 ] || die "$name: exit $rc with a GPU (want 0)"
    fi
    [ "$(grep -c '^  [0-9]' "$log")" -eq 3 ] || die "$name: not three problem sizes"
}
db=$tmp/profiles.db
for app in app-cmake/cutune_app app-static/cutune_app app-pc; do
    tag=${app%%/*}
    check "$tag-empty" "default:_no_profile" "$tmp/$app" --db "$db" --runs 3
    grep -q "no profile store at" "$tmp/$tag-empty.log" || die "$tag: says nothing of the missing store"
done
"$tmp/seed" "$db" "$kernels/sgemm.cu" "NVIDIA H100 80GB HBM3" 9 132 || die "install_seed failed"
"$tmp/seed-static" "$db" "$kernels/sgemm.cu" "NVIDIA H100 80GB HBM3" 9 132 ||
    die "install_seed (static) failed"
for app in app-cmake/cutune_app app-static/cutune_app app-pc; do
    tag=${app%%/*}
    check "$tag-tuned" "1024x1024x1024_+exact 2048x2048x2048_+nearest_size 4096x4096x4096_+nearest_size TILED=1_MWG=64" \
          "$tmp/$app" --db "$db" --runs 3
done
echo "installed into a temporary prefix; examples/app built with find_package (shared and static) and pkg-config, and ran"
