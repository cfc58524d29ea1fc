#!/bin/sh
# test_check.sh — `cutune check` and `cutune compile` as a Kernel Tuner user meets them: a spec
# looked over offline, a kernel that redefines a tuning parameter, a compile error with its
# whole log, and a header edited between two compilations.
# usage: test_check.sh PATH/TO/cutune SOURCE_DIR [CASE]   (each case a function case_CASE below)
CLI=$1
SRC=$2
CASE=${3:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_checks.sh" # fail, run, has, run_cases
export XDG_CACHE_HOME="$TMP/cache"

# nvrtc=1 where cutune compiles (NVRTC), else 0
probe_nvrtc() {
    nvrtc=1
    "$CLI" compile "$SRC/kernels/convolution.cu" --spec "$SRC/kernels/convolution.json" \
        --config 16,16,1,1,0,1,1,1,15,15 --arch sm_90 >/dev/null 2>&1 || nvrtc=0
}

# usage, and specs that are missing or broken
case_usage() {
run 0 check --help
has out "usage: cutune check SPEC.json"
run 2 check
has err "which spec?"
run 2 check a.json b.cu c.cu
run 1 check "$TMP/missing.json"
has err "cutune check: spec: "
printf '{"ConfigurationSpace": {' >"$TMP/broken.json"
run 1 check "$TMP/broken.json"
has err "broken.json:1"
}

# the shipped convolution: everything up to the compilation works without NVRTC
case_convolution() {
probe_nvrtc
if [ $nvrtc = 1 ]; then
    run 0 check "$SRC/kernels/convolution.json" --arch sm_90
    has out "4362 valid of 10240 combinations"
    has out "16,16,1,1,0,1,1,1,15,15 (the spec's default)"
    has out "grid 256 x 256 x 1, block 16 x 16 x 1"
    has out "3720 bytes of static shared memory"
    has out "limited by"
    run 0 check "$SRC/kernels/convolution.json" --arch sm_90 --json
    has out '"ok": true'
    has out '"static_smem": 3720'
    run 0 check "$SRC/kernels/convolution.json" --arch sm_90 --config 64,4,3,3,1,0,1,1,15,15
    has out "64,4,3,3,1,0,1,1,15,15 (--config)"
else
    run 1 check "$SRC/kernels/convolution.json" --arch sm_90
    has out "4362 valid of 10240 combinations"
    has err "cutune check: compile: "
fi
run 1 check "$SRC/kernels/convolution.json" --config 256,8,1,1,0,0,1,1,15,15
has err "breaks a constraint"
run 1 check "$SRC/kernels/convolution.json" --config 1,2,3
has err "configuration 1,2,3"
run 1 check "$SRC/kernels/convolution.json" --arch sm_42
has err "sm_42"
}

# kernels of one's own: a spec over one buffer
case_own_kernels() {
probe_nvrtc
spec() { # FILE KERNEL_FILE PARAMS
    cat >"$1" <<EOF
{"ConfigurationSpace": {"TuningParameters": [$3]},
 "KernelSpecification": {"Language": "CUDA", "KernelName": "k", "KernelFile": "$2",
  "ProblemSize": [1024],
  "Arguments": [{"Name": "a", "Type": "float", "MemoryType": "Vector", "Size": 1024,
                 "FillType": "Random", "Output": 1}]}}
EOF
}
BX='{"Name": "block_size_x", "Type": "int", "Values": "[128, 256]", "Default": 256}'
spec "$TMP/r.json" r.cu "$BX"
printf '#define block_size_x 64\nextern "C" __global__ void k(float *a) { a[0] = block_size_x; }\n' \
    >"$TMP/r.cu"
spec "$TMP/bad.json" bad.cu "$BX"
printf 'extern "C" __global__ void k(float *a) {\n  a[0] = not_declared;\n}\n' >"$TMP/bad.cu"
printf '#define PAD 16\n' >"$TMP/pad.h"
printf '#include "pad.h"\nextern "C" __global__ void k(float *a) {\n  __shared__ float s[block_size_x + PAD];\n  s[threadIdx.x] = a[threadIdx.x];\n  __syncthreads();\n  a[threadIdx.x] = s[threadIdx.x ^ 1];\n}\n' \
    >"$TMP/h.cu"
spec "$TMP/h.json" h.cu "$BX"
if [ $nvrtc = 1 ]; then
    run 1 check "$TMP/r.json" --arch sm_90
    has err "r.cu:1: redefines block_size_x"
    has err "#ifndef kernel_tuner"
    has err "incompatible redefinition of macro"
    run 1 check "$TMP/bad.json" --arch sm_90
    has err "bad.cu(2): error"
    has err "not_declared"
    run 1 check "$TMP/bad.json" --arch sm_90 --json
    has out '"stage": "compile"'
    has out 'bad.cu(2): error: identifier'
    # an edited header is compiled anew, not served from the cache
    run 0 compile "$TMP/h.cu" --spec "$TMP/h.json" --config 256 --arch sm_90
    has out "1088 bytes static"
    printf '#define PAD 4096\n' >"$TMP/pad.h"
    run 0 compile "$TMP/h.cu" --spec "$TMP/h.json" --config 256 --arch sm_90
    has out "17408 bytes static"
    run 0 compile "$TMP/h.cu" --spec "$TMP/h.json" --config 256 --arch sm_90
    has out "from the cache"
    run 1 compile "$TMP/r.cu" --spec "$TMP/r.json" --config 128 --arch sm_90 --json
    has out '"error": "'
    has out 'redefines block_size_x'
fi
}

run_cases "$CASE"

[ "$fails" -eq 0 ] || exit 1
echo "check and compile: all passed"
