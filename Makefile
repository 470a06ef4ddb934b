# gpu-virt-bench build.
#   make            build/gpu-virt-bench and build/libgvb-calib.so (the calibration layer)
#   make test       unit tests (cmocka) + CLI tests on the fake system; GPU tests skip without a GPU
#   make run        build, then compare native, mps (and hami when its library is found) on
#                   this machine's GPU into results/; SYSTEMS=native,hami ARGS=--quick override
#
# Pure C11 parts (core, stats, report, systems) build with -Werror. CUDA device code lives
# only in src/kernels/*.cu. NVML is loaded with dlopen at run time, so no nvml.h is needed.
# JSON: jansson, linked statically when libjansson.a exists so the binary runs where only
# the driver is installed. JANSSON_PREFIX points at an unpacked libjansson-dev if not in /usr.
# Tests: cmocka, found the same way (CMOCKA_PREFIX). When a header is missing, tools/deps.sh
# installs the package (root) or unpacks it into .deps/ (not root) before anything compiles.

CUDA_HOME     ?= /usr/local/cuda
NVCC          ?= $(CUDA_HOME)/bin/nvcc
CC            ?= gcc
GPU_ARCHS     ?= 80 90
DEPS_DIR      ?= $(CURDIR)/.deps
JANSSON_PREFIX ?= $(if $(wildcard $(DEPS_DIR)/usr/include/jansson.h),$(DEPS_DIR)/usr,/usr)
CMOCKA_PREFIX  ?= $(if $(wildcard $(DEPS_DIR)/usr/include/cmocka.h),$(DEPS_DIR)/usr,/usr)

BUILD   ?= build
BIN     := $(BUILD)/gpu-virt-bench
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# -isystem: headers outside /usr are treated as system headers too (cmocka's macros trip
# -Werror=dangling-pointer under gcc 12 when included with -I)
JANSSON_INC := $(if $(filter /usr,$(JANSSON_PREFIX)),,-isystem $(JANSSON_PREFIX)/include)
JANSSON_A   := $(firstword $(wildcard $(JANSSON_PREFIX)/lib/*/libjansson.a $(JANSSON_PREFIX)/lib/libjansson.a))
JANSSON_LIB := $(if $(JANSSON_A),$(JANSSON_A),-ljansson)
# Debian ships no libcmocka.a: outside /usr the test binary finds libcmocka.so.0 by its rpath
CMOCKA_INC  := $(if $(filter /usr,$(CMOCKA_PREFIX)),,-isystem $(CMOCKA_PREFIX)/include)
CMOCKA_DIR  := $(patsubst %/,%,$(dir $(firstword $(wildcard $(CMOCKA_PREFIX)/lib/*/libcmocka.so $(CMOCKA_PREFIX)/lib/libcmocka.so))))
CMOCKA_LIB  := $(if $(filter /usr,$(CMOCKA_PREFIX)),,-L$(CMOCKA_DIR) -Xlinker -rpath=$(CMOCKA_DIR)) -lcmocka

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
CFLAGS    ?= -O2 -g
CPPFLAGS  += -D_GNU_SOURCE -DGVB_VERSION=\"$(VERSION)\" -Isrc $(JANSSON_INC)
PURE_FLAGS := -std=c11 $(WARN) -Werror
CUDA_C_FLAGS := -std=c11 $(WARN) -Werror -I$(CUDA_HOME)/include
NVCC_FLAGS := -O3 -std=c++17 -Isrc $(foreach a,$(GPU_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
              -gencode arch=compute_$(lastword $(GPU_ARCHS)),code=compute_$(lastword $(GPU_ARCHS))
LDLIBS    := $(JANSSON_LIB) -ldl -lpthread -lrt -lm
# cuBLAS and cuBLASLt are not linked: every use goes through the dlopen loader
# (src/gpu/cublas_dl.c), so only the processes that run a GEMM pay their ~80 ms load, not
# every tenant's exec (OH-004). The loader's fallback directory is the toolkit's.
CPPFLAGS  += -DGVB_CUDA_LIB_DIR=\"$(CUDA_HOME)/lib64\"

PURE_SRC := $(wildcard src/core/*.c src/stats/*.c src/report/*.c src/systems/*.c src/validate/*.c)
CUDA_SRC := $(wildcard src/gpu/*.c src/metrics/*.c) src/main.c
CU_SRC   := $(wildcard src/kernels/*.cu)

PURE_OBJ := $(PURE_SRC:%.c=$(BUILD)/%.o)
CUDA_OBJ := $(CUDA_SRC:%.c=$(BUILD)/%.o)
CU_OBJ   := $(CU_SRC:%.cu=$(BUILD)/%.o)

# ---- the calibration layer (docs/validation.md) ------------------------------------------
# libgvb-calib.so: an LD_PRELOAD library in C, built without the CUDA runtime and without
# linking libcuda (cuda.h for types only; the real functions come from the libcuda the process
# loads). Only the interposed functions and gvb_calib_stats are exported. Its pure part
# (spec, accounting, duty bucket) is also linked into the binary and the unit tests.
CALIB_LIB := $(BUILD)/libgvb-calib.so
CALIB_SRC := src/calib/calib.c src/calib/calib_account.c src/core/size.c src/gpu/nvml.c
PURE_SRC  += src/calib/calib_account.c
PURE_OBJ  := $(PURE_SRC:%.c=$(BUILD)/%.o)
# test doubles (no GPU): a fake libcuda.so.1 and a program that reaches it the way cudart does
CALIB_TEST := $(BUILD)/tests/calib/libcuda.so.1 $(BUILD)/tests/calib/calib-host

TEST_SRC := $(wildcard tests/unit/*.c)
TEST_BIN := $(BUILD)/unit-tests

.PHONY: all test run clean deps
all: $(BIN)

# ---- the libraries, before anything compiles ---------------------------------------------
# A header that is missing where the flags above look makes build/deps.mk out of date; make
# runs tools/deps.sh to get it, then reads this file again (make's restart), so the prefixes
# above see what it installed or unpacked. Not for `clean`, not under -n, not after a
# restart (no loop when the header is found somewhere else, e.g. /usr/local/include).
# `make deps` does only this step, for both libraries (e.g. to fill .deps/ for another machine).
DEPS_GOALS := $(if $(MAKECMDGOALS),$(filter-out clean,$(MAKECMDGOALS)),all)
DEPS_MISSING := $(strip \
    $(if $(DEPS_GOALS),$(if $(wildcard $(JANSSON_PREFIX)/include/jansson.h),,jansson)) \
    $(if $(filter test deps $(TEST_BIN),$(DEPS_GOALS)),$(if $(wildcard $(CMOCKA_PREFIX)/include/cmocka.h),,cmocka)))
ifeq ($(MAKE_RESTARTS)$(findstring n,$(firstword -$(MAKEFLAGS))),)
ifneq ($(DEPS_MISSING),)
# (made empty first: a failed step then ends with its own error line, not make's "No such file")
$(shell mkdir -p $(BUILD) && touch $(BUILD)/deps.mk)
include $(BUILD)/deps.mk
endif
endif
$(BUILD)/deps.mk: FORCE
	@mkdir -p $(dir $@)
	@CC="$(CC)" DEPS_DIR="$(DEPS_DIR)" tools/deps.sh $(DEPS_MISSING)
	@echo '# tools/deps.sh ran for: $(DEPS_MISSING)' >$@
.PHONY: FORCE
FORCE:
deps:

$(BIN): $(PURE_OBJ) $(CUDA_OBJ) $(CU_OBJ)
	$(NVCC) -o $@ $^ $(LDLIBS)

$(BUILD)/src/core/%.o $(BUILD)/src/stats/%.o $(BUILD)/src/report/%.o $(BUILD)/src/systems/%.o $(BUILD)/src/validate/%.o: CFLAGS_EXTRA := $(PURE_FLAGS)
$(BUILD)/src/calib/%.o: CFLAGS_EXTRA := $(PURE_FLAGS)
$(BUILD)/src/gpu/%.o $(BUILD)/src/metrics/%.o $(BUILD)/src/main.o: CFLAGS_EXTRA := $(CUDA_C_FLAGS)

# The commit the binary was built from (and -dirty with uncommitted changes), in tool_version:
# a results file says which code measured it. Rewritten only when it changes, so an unchanged
# tree rebuilds nothing; empty outside a git checkout of this tree.
GEN_VERSION := $(BUILD)/gen/build_commit.h
$(GEN_VERSION): FORCE
	@mkdir -p $(dir $@)
	@c=; if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	 c=+g$$(git rev-parse --short=12 HEAD 2>/dev/null)$$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty); fi; \
	 l="#define GVB_BUILD_SUFFIX \"$$c\""; [ "$$(cat $@ 2>/dev/null)" = "$$l" ] || echo "$$l" >$@
$(BUILD)/src/main.o: $(GEN_VERSION)
$(BUILD)/src/main.o: CPPFLAGS += -I$(BUILD)/gen

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_EXTRA) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_FLAGS) -MMD -MP -c $< -o $@

# Unit tests link every object but main.o (the catalog names the metric implementations).
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
$(BUILD)/tests/unit/%.o: CFLAGS_EXTRA := $(PURE_FLAGS) -Itests/unit $(CMOCKA_INC)
# the cuBLAS loader's test needs the toolkit's headers (types only; the library is dlopen'ed)
$(BUILD)/tests/unit/test_cublas_dl.o: CFLAGS_EXTRA := $(CUDA_C_FLAGS) -Itests/unit $(CMOCKA_INC)
$(TEST_BIN): $(TEST_OBJ) $(PURE_OBJ) $(filter-out $(BUILD)/src/main.o,$(CUDA_OBJ)) $(CU_OBJ)
	$(NVCC) -o $@ $^ $(CMOCKA_LIB) $(LDLIBS)

test: $(BIN) $(TEST_BIN) $(CALIB_LIB) $(CALIB_TEST)
	@BUILD=$(BUILD) tests/run.sh

all: $(CALIB_LIB)
$(CALIB_LIB): $(CALIB_SRC) $(wildcard src/calib/*.h) src/core/size.h src/gpu/nvml.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PURE_FLAGS) -I$(CUDA_HOME)/include -fPIC -fvisibility=hidden -shared \
	    $(CFLAGS) -o $@ $(CALIB_SRC) -ldl -lpthread -lm
$(BUILD)/tests/calib/libcuda.so.1: tests/calib/fake_cuda.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PURE_FLAGS) -I$(CUDA_HOME)/include -fPIC -shared -Wl,-Bsymbolic \
	    $(CFLAGS) -o $@ $<
$(BUILD)/tests/calib/calib-host: tests/calib/calib_host.c src/calib/calib_stats.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PURE_FLAGS) -I$(CUDA_HOME)/include $(CFLAGS) -o $@ $< -ldl

# The new user's comparison on this machine's GPU: native against mps (a private daemon, needs
# only the driver) and hami when HAMi-core's library is found; per-tenant limits derived from
# the GPU (--limits auto: a quarter of its memory, 50 % compute). Results and report.html land
# in results/<timestamp>/. SYSTEMS=... picks other systems, ARGS=... adds run options. A hami
# asked for by name gets HAMI_LIB even when it is missing: the binary then says so (exit 2).
HAMI_LIB ?= $(or $(GVB_HAMI_LIB),/usr/local/vgpu/libvgpu.so)
HAMI_FOUND := $(wildcard $(HAMI_LIB))
COMMA := ,
SYSTEMS ?= native,mps$(if $(HAMI_FOUND),$(COMMA)hami)
HAMI_ARG = $(if $(HAMI_FOUND)$(filter hami hami@%,$(subst $(COMMA), ,$(SYSTEMS))), --hami-lib $(HAMI_LIB))
run: $(BIN)
ifeq ($(HAMI_FOUND)$(filter-out file,$(origin SYSTEMS)),)
	@echo "run: hami left out: no $(HAMI_LIB); to add it: make run HAMI_LIB=/path/to/libvgpu.so"
endif
	$(BIN) run --systems $(SYSTEMS) --limits auto$(HAMI_ARG) --output results$(if $(ARGS), $(ARGS))

clean:
	rm -rf $(BUILD)

-include $(TEST_OBJ:.o=.d) $(PURE_OBJ:.o=.d) $(CUDA_OBJ:.o=.d) $(CU_OBJ:.o=.d)
