#!/bin/sh
# kernels.sh — cutune's kernels tuned on this GPU, beside cuBLAS and the device's own copy,
# in one run: SGEMM at 4096^3, 1024^3 and 8192x64x8192 (bo), the streaming and reduction
# kernels on 1 GiB (bo). Prints each session's summary, then writes the results as one JSON
# object to bench/results/kernels-<gpu>.json (or $OUT_JSON).
# usage: bench/scripts/kernels.sh [BUILD_DIR] [BUDGET]   (run from the repository's root)
set -eu
BUILD=${1:-build}
BUDGET=${2:-100}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# the checks first: every kernel against its CPU reference, then the marks
"$BUILD/tests/gpu_test_kernels"
"$BUILD/kernels_bench" > "$TMP/marks.json"
cat "$TMP/marks.json"
tune() { # NAME SOURCE SPEC [options...]
    name=$1 src=$2 spec=$3
    shift 3
    "$BUILD/cutune" tune "$src" --spec "$spec" --strategy bo --budget "$BUDGET" --no-store \
        --json "$@" > "$TMP/$name.json"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('%-14s best %s: %.4f ms; default %.4f ms; %.2fx; occupancy %.0f%%, limited by %s' % (sys.argv[2], d['best_config'], d['best_ms'], d['default_ms'], d['speedup'], 100 * d.get('best_occupancy', 0), ' and '.join(d.get('best_limiters', [])) or '?'))" "$TMP/$name.json" "$name"
}
tune sgemm4096 kernels/sgemm.cu kernels/sgemm.json
tune sgemm1024 kernels/sgemm.cu kernels/sgemm.json --problem 1024,1024,1024
tune sgemm_skinny kernels/sgemm.cu kernels/sgemm.json --problem 64,8192,8192
for k in copy scale triad; do tune $k kernels/stream.cu kernels/$k.json; done
for k in sum max dot; do tune $k kernels/reduce.cu kernels/$k.json; done
python3 - "$TMP" "${OUT_JSON:-}" <<'PY'
import json, os, re, sys
tmp, out = sys.argv[1], sys.argv[2]
r = json.load(open(os.path.join(tmp, "marks.json")))
def load(name): return json.load(open(os.path.join(tmp, name + ".json")))
flop = {"sgemm4096": 2 * 4096**3, "sgemm1024": 2 * 1024**3, "sgemm_skinny": 2 * 8192 * 64 * 8192}
for name, f in flop.items():
    d = load(name)
    r[name + "_tflops"] = f / d["best_ms"] / 1e9
    r[name + "_default_tflops"] = f / d["default_ms"] / 1e9
    r[name + "_best_config"] = d["best_config"]
    r[name + "_occupancy"] = d.get("best_occupancy")
    r[name + "_limiters"] = d.get("best_limiters")
# bytes moved per element: copy and scale read one array and write one, triad reads two and
# writes one, sum and max read one, dot two
moved = {"copy": 2, "scale": 2, "triad": 3, "sum": 1, "max": 1, "dot": 2}
n = 1 << 28
for name, arrays in moved.items():
    d = load(name)
    r[name + "_gbps"] = arrays * 4 * n / d["best_ms"] / 1e6
    r[name + "_default_gbps"] = arrays * 4 * n / d["default_ms"] / 1e6
    r[name + "_best_config"] = d["best_config"]
    r[name + "_occupancy"] = d.get("best_occupancy")
    r[name + "_limiters"] = d.get("best_limiters")
r["sgemm4096_tflops_vs_cublas"] = r["sgemm4096_tflops"] / r["cublas_sgemm4096_tflops"]
r["stream_min_gbps"] = min(r[k + "_gbps"] for k in moved)
r["stream_min_vs_d2d"] = r["stream_min_gbps"] / r["d2d_copy_gbps"]
name = out or "bench/results/kernels-%s.json" % re.sub(r"[^a-z0-9]+", "-", r["device"].lower()).strip("-")
json.dump(r, open(name, "w"), indent=2)
print("written to", name)
PY
