# Makefile — the front door. `make` builds into build/ (CLI at build/cutune); `make test`
# runs the tests in an optimised build, in one without the CUDA toolkit, and under ASan+UBSan
# (with short fuzzing runs);
# `make demo` runs the main job; `make bench` the benchmarks. Each first runs scripts/deps.sh,
# which installs missing Debian packages.
#   make ASAN=1 ...   address + undefined-behaviour sanitizers, clang, build-asan/
#   make TSAN=1 ...   thread sanitizer, clang, build-tsan/
#   make CPUONLY=1 ... without the CUDA toolkit and MPI (-DCUTUNE_CUDA=OFF -DCUTUNE_MPI=OFF),
#                      build-cpu/
#   make install PREFIX=DIR  the CLI, libcutune (.a and .so), header, cutune.pc, the CMake
#                package, the man page and the shipped kernels under DIR (default /usr/local)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
PREFIX ?= /usr/local

ifeq ($(ASAN),1)
BUILD := build-asan
CONFIG := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
          -DCUTUNE_SANITIZE=address,undefined -DCUTUNE_FUZZ=ON
else ifeq ($(CPUONLY),1)
BUILD := build-cpu
CONFIG := -DCMAKE_BUILD_TYPE=Release -DCUTUNE_CUDA=OFF -DCUTUNE_MPI=OFF
else ifeq ($(TSAN),1)
BUILD := build-tsan
CONFIG := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCUTUNE_SANITIZE=thread
else
BUILD := build
CONFIG := -DCMAKE_BUILD_TYPE=Release
endif

.PHONY: all deps build test test-one demo bench bench-store install clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CONFIG) $(CMAKE_ARGS) >$(BUILD).cmake.log 2>&1 || \
	  { cat $(BUILD).cmake.log; exit 1; }
	@cmake --build $(BUILD) -j $(JOBS)

# One build's tests.
test-one: build
	@sh scripts/run_tests.sh $(BUILD) $(JOBS)

# Plain `make test`: the optimised build, the same without the CUDA toolkit and MPI (it must
# build and say "no CUDA device"), then the sanitized one. With ASAN=1, TSAN=1 or CPUONLY=1, only
# that build.
ifeq ($(ASAN)$(TSAN)$(CPUONLY),)
test: deps
	@$(MAKE) --no-print-directory test-one
	@$(MAKE) --no-print-directory test-one CPUONLY=1
	@$(MAKE) --no-print-directory test-one ASAN=1
else
test: test-one
endif

demo: build
	@sh scripts/demo.sh $(BUILD)

bench: build
	@sh scripts/bench.sh $(BUILD)

# The profile store's lookups: one JSON line (bench/programs/store_bench.c says what it measures).
bench-store: build
	@$(BUILD)/store_bench

# Issue 14: libcutune for applications (README "Embedding cutune")
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-tsan build*.cmake.log
