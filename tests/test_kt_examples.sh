#!/bin/sh
# test_kt_examples.sh — kernels someone else wrote compile unchanged, for sm_90: Kernel Tuner's
# CUDA examples (tests/data/kernel_tuner, with T1 specs of their tune_params) and benchmark_hub's
# CUDA kernels with their own specs (tests/data/benchmark_hub), each checked for the registers
# and shared memory its parameters must change. Skipped without NVRTC.
# usage: test_kt_examples.sh PATH/TO/cutune SOURCE_DIR [CASE]   (each case a function
#        case_CASE below)
CLI=$1
SRC=$2
CASE=${3:-}
KT=$SRC/tests/data/kernel_tuner
BH=$SRC/tests/data/benchmark_hub
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_checks.sh" # fail, run, has, run_cases
export XDG_CACHE_HOME="$TMP/cache"

if ! "$CLI" compile "$KT/vector_add.cu" --spec "$KT/vector_add.json" --config 128 --arch sm_90 \
        >"$TMP/out" 2>"$TMP/err"; then
    grep -q "NVRTC\|without the CUDA toolkit" "$TMP/err" || fail "compile: $(cat "$TMP/err")"
    [ "$fails" -eq 0 ] || exit 1
    echo "skipped: no NVRTC here: $(cat "$TMP/err")"
    exit 77
fi

# compile EXAMPLE CONFIG [DIR [KERNEL]]: its registers and static shared memory in $regs, $smem
compile() {
    run 0 compile "${3:-$KT}/${4:-$1.cu}" --spec "${3:-$KT}/$1.json" --config "$2" --arch sm_90 \
        --json
    regs=$(sed -n 's/^ *"regs": \([0-9]*\),$/\1/p' "$TMP/out")
    smem=$(sed -n 's/^ *"static_smem": \([0-9]*\),$/\1/p' "$TMP/out")
    [ -n "$regs" ] && [ -n "$smem" ] || fail "$1 $2: no registers or shared memory in $(cat "$TMP/out")"
}
want_smem() { [ "$smem" = "$1" ] || fail "$2: $smem bytes of shared memory, expected $1"; }

# every example's first valid configuration, as `cutune check` compiles it
case_first_valid() {
for k in vector_add matmul stencil convolution pnpoly reduction; do
    run 0 check "$KT/$k.json" --arch sm_90
    has out "compiled     for sm_90"
done
}

# vector_add: the block size is only an index stride
case_vector_add() {
compile vector_add 128
compile vector_add 1024
want_smem 0 "vector_add 1024"
}

# matmul: sA[block_size_y*tile_size_y][block_size_x], sB[...][block_size_x*tile_size_x] floats;
# tile_size_x*tile_size_y accumulators a thread
case_matmul() {
compile matmul 16,16,1,1
want_smem $((4 * (16 * 16 + 16 * 16))) "matmul 16,16,1,1"
small=$regs
compile matmul 16,16,2,1
want_smem $((4 * (16 * 16 + 16 * 32))) "matmul 16,16,2,1"
compile matmul 32,4,4,8
want_smem $((4 * (32 * 32 + 32 * 128))) "matmul 32,4,4,8"
[ "$regs" -gt "$small" ] || fail "matmul: 32 accumulators take $regs registers, 1 takes $small"
}

# convolution: the staged tile with its filter border, padded where use_padding says
case_convolution() {
compile convolution 15,15,16,16,1,1,0,0
want_smem $((4 * (16 + 14) * (16 + 14))) "convolution 15x15"
compile convolution 3,3,16,16,1,1,0,0
want_smem $((4 * (16 + 2) * (16 + 2))) "convolution 3x3"
compile convolution 15,15,48,8,2,2,1,1
want_smem $((4 * (8 * 2 + 14) * (48 * 2 + 14 + 2))) "convolution 48x8, tiles 2x2, padded"
}

# pnpoly: tile_size points a thread, each with its own state
case_pnpoly() {
compile pnpoly 256,1,0,0,0
one=$regs
compile pnpoly 256,10,0,0,0
[ "$regs" -gt "$one" ] || fail "pnpoly: 10 points a thread take $regs registers, 1 takes $one"
}

# stencil: nothing but the launch changes; both ends compile
case_stencil() {
compile stencil 32,1
compile stencil 256,32
}

# reduction: problem_size is the parameter num_blocks, the grid is that many blocks; a
# loop_unroll_factor of 0 drops its #pragma unroll
case_reduction() {
compile reduction 1024,4,1024,0,1
want_smem $((4 * 1024)) "reduction, 1024 threads"
compile reduction 256,2,32768,16,0
want_smem $((4 * 256)) "reduction, 256 threads"
run 0 check "$KT/reduction.json" --config 64,1,4096,0,1 --arch sm_90
has out "grid 4096 x 1 x 1, block 64 x 1 x 1"
}

# benchmark_hub's hotspot, as it is: its #ifndef kernel_tuner defaults give way to each
# configuration's, so the staged tiles (two of temperature, one of power with sh_power)
# follow the block, tile and temporal tiling sizes
case_hotspot() {
run 0 check "$BH/hotspot_milo.json" --arch sm_90
has out "4096,4096,256,1,1,1,1,10,1,1 (the spec's default)"
has out "9288 bytes of static shared memory" # (1 + 2) x (256 + 2) floats, 3 tiles
compile hotspot_milo 4096,4096,32,8,2,2,4,10,2,0 "$BH"
want_smem $((2 * 4 * (8 * 2 + 8) * (32 * 2 + 8))) "hotspot, temporal tiling 4"
compile hotspot_milo 4096,4096,32,8,2,2,4,10,2,1 "$BH"
want_smem $((3 * 4 * (8 * 2 + 8) * (32 * 2 + 8))) "hotspot, with power in shared memory"
}

# benchmark_hub's convolution; its dedispersion (the CUDA twin of its HIP file) and gemm
case_benchmark_hub() {
compile convolution_milo 16,16,1,1,0,1,1,1,15,15 "$BH"
want_smem $((4 * 30 * (30 + 18))) "benchmark_hub's convolution, padded to 48 columns"
# dedispersion's spec names a HIP file: its CUDA twin compiles; gemm is OpenCL, refused
run 1 check "$BH/dedispersion_milo.json" --arch sm_90
has err "hip/hip_runtime.h"
run 0 check "$BH/dedispersion_milo.json" "$BH/dedisp_milo/dedispersion.cu" --arch sm_90
run 1 check "$BH/gemm_milo.json" --arch sm_90
has err 'Language is "OpenCL": cutune compiles CUDA only'
has out "116928 valid"
}

run_cases "$CASE"

[ "$fails" -eq 0 ] || exit 1
echo "Kernel Tuner's examples: all compiled as expected"
