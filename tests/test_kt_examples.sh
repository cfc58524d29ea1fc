#!/bin/sh
# test_kt_examples.sh — kernels someone else wrote compile unchanged, for sm_90: Kernel Tuner's
# CUDA examples (tests/data/kernel_tuner, with T1 specs of their tune_params), each checked for
# the registers and shared memory its parameters must change. Skipped without NVRTC.
# usage: test_kt_examples.sh PATH/TO/cutune SOURCE_DIR
CLI=$1
SRC=$2
KT=$SRC/tests/data/kernel_tuner
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_checks.sh" # fail, run, has
export XDG_CACHE_HOME="$TMP/cache"

if ! "$CLI" compile "$KT/vector_add.cu" --spec "$KT/vector_add.json" --config 128 --arch sm_90 \
        >"$TMP/out" 2>"$TMP/err"; then
    grep -q "NVRTC\|without the CUDA toolkit" "$TMP/err" || fail "compile: $(cat "$TMP/err")"
    [ "$fails" -eq 0 ] || exit 1
    echo "skipped: no NVRTC here: $(cat "$TMP/err")"
    exit 77
fi

# compile EXAMPLE CONFIG: its registers and static shared memory in $regs and $smem
compile() {
    run 0 compile "$KT/$1.cu" --spec "$KT/$1.json" --config "$2" --arch sm_90 --json
    regs=$(sed -n 's/^ *"regs": \([0-9]*\),$/\1/p' "$TMP/out")
    smem=$(sed -n 's/^ *"static_smem": \([0-9]*\),$/\1/p' "$TMP/out")
    [ -n "$regs" ] && [ -n "$smem" ] || fail "$1 $2: no registers or shared memory in $(cat "$TMP/out")"
}
want_smem() { [ "$smem" = "$1" ] || fail "$2: $smem bytes of shared memory, expected $1"; }

# every example's first valid configuration, as `cutune check` compiles it
for k in vector_add matmul stencil convolution pnpoly; do
    run 0 check "$KT/$k.json" --arch sm_90
    has out "compiled     for sm_90"
done

# vector_add: the block size is only an index stride
compile vector_add 128
compile vector_add 1024
want_smem 0 "vector_add 1024"

# matmul: sA[block_size_y*tile_size_y][block_size_x], sB[...][block_size_x*tile_size_x] floats;
# tile_size_x*tile_size_y accumulators a thread
compile matmul 16,16,1,1
want_smem $((4 * (16 * 16 + 16 * 16))) "matmul 16,16,1,1"
small=$regs
compile matmul 16,16,2,1
want_smem $((4 * (16 * 16 + 16 * 32))) "matmul 16,16,2,1"
compile matmul 32,4,4,8
want_smem $((4 * (32 * 32 + 32 * 128))) "matmul 32,4,4,8"
[ "$regs" -gt "$small" ] || fail "matmul: 32 accumulators take $regs registers, 1 takes $small"

# convolution: the staged tile with its filter border, padded where use_padding says
compile convolution 15,15,16,16,1,1,0,0
want_smem $((4 * (16 + 14) * (16 + 14))) "convolution 15x15"
compile convolution 3,3,16,16,1,1,0,0
want_smem $((4 * (16 + 2) * (16 + 2))) "convolution 3x3"
compile convolution 15,15,48,8,2,2,1,1
want_smem $((4 * (8 * 2 + 14) * (48 * 2 + 14 + 2))) "convolution 48x8, tiles 2x2, padded"

# pnpoly: tile_size points a thread, each with its own state
compile pnpoly 256,1,0,0,0
one=$regs
compile pnpoly 256,10,0,0,0
[ "$regs" -gt "$one" ] || fail "pnpoly: 10 points a thread take $regs registers, 1 takes $one"

# stencil: nothing but the launch changes; both ends compile
compile stencil 32,1
compile stencil 256,32
[ "$fails" -eq 0 ] || exit 1
echo "Kernel Tuner's examples: all compiled as expected"
