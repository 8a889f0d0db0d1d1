# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# xfrmbpf: `make` builds build/xfrmbpf; `make test` runs every test suite;
# `make demo` runs the namespace lab. V=1 shows the commands.

PREFIX ?= /usr/local
DESTDIR ?=
OUT := build
ARCH := $(shell uname -m)

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKGS := libbpf libxdp libmnl jansson libmicrohttpd libsystemd

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
LIBXDP_VERSION = $(shell pkg-config --modversion libxdp 2>/dev/null || echo unknown)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN := -Wall -Wextra
CFLAGS ?= -O2 -g
# Recursive: the libxdp version must be read after `deps` installed it.
XB_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(OUT) \
	-DXB_VERSION='"$(VERSION)"' -DXB_GIT_REV='"$(GIT_REV)"' \
	-DXB_LIBXDP_VERSION='"$(LIBXDP_VERSION)"'
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 $(WARN) -Iinclude -Ibpf \
	-I/usr/include/$(ARCH)-linux-gnu

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/xfrmbpf/*.h)

# user/main.c and one folder per role (docs/layout.md).
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_HDRS := $(wildcard user/*/*.h) $(wildcard include/xfrmbpf/*.h)
LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
USER_OBJS := $(patsubst %.c,$(OUT)/%.o,$(USER_SRCS))
SAN_LIB_OBJS := $(patsubst %.c,$(OUT)/san/%.o,$(LIB_SRCS))

TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_HDRS := $(wildcard tests/lib/*.h)
SAN_TEST_LIB_OBJS := $(patsubst %.c,$(OUT)/san/%.o,$(TEST_LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))
BPFTEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPFTEST_SRCS))

.PHONY: all deps test unit-tests vmtest bench demo install clean fuzz fuzz-build man deb
.DELETE_ON_ERROR:
# Keep objects and skeletons that pattern rules chain through.
.SECONDARY:

all: $(OUT)/xfrmbpf

deps: $(OUT)/.deps-ok

$(OUT)/.deps-ok: scripts/install-deps.sh
	$(Q)mkdir -p $(OUT)
	$(Q)bash scripts/install-deps.sh
	$(Q)touch $@

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)/.deps-ok
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(OUT)/.deps-ok
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(XB_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(OUT)/xfrmbpf: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XB_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Tests link the userspace objects built with AddressSanitizer and UBSan.
$(OUT)/san/%.o: %.c $(USER_HDRS) $(TEST_HDRS) $(SKELS) | $(OUT)/.deps-ok
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(XB_CFLAGS) $(SAN) -Itests/lib $(PKG_CFLAGS) -c $< -o $@

$(OUT)/tests/unit/%: tests/unit/%.c $(SAN_LIB_OBJS) $(SAN_TEST_LIB_OBJS) $(TEST_HDRS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(XB_CFLAGS) $(SAN) -Itests/lib $(PKG_CFLAGS) -o $@ $< \
		$(SAN_LIB_OBJS) $(SAN_TEST_LIB_OBJS) -lcmocka $(PKG_LIBS)

$(OUT)/tests/bpf/%: tests/bpf/%.c $(SAN_LIB_OBJS) $(SAN_TEST_LIB_OBJS) $(TEST_HDRS) $(BPF_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(XB_CFLAGS) $(SAN) -Itests/lib $(PKG_CFLAGS) -o $@ $< \
		$(SAN_LIB_OBJS) $(SAN_TEST_LIB_OBJS) -lcmocka $(PKG_LIBS)

# Benchmarks (make bench): optimised, no sanitizers; the userspace objects
# come from an archive, so each program links only what it uses.
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))
BENCH_LIB_SRCS := $(filter-out $(BENCH_SRCS) %.bpf.c,$(wildcard tests/bench/*.c))
BENCH_BPF_OBJS := $(patsubst tests/bench/%.bpf.c,$(OUT)/bench/%.bpf.o,$(wildcard tests/bench/*.bpf.c))

$(OUT)/bench/libxb.a: $(filter-out $(OUT)/user/main.o,$(USER_OBJS))
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

$(OUT)/bench/%.bpf.o: tests/bench/%.bpf.c $(BPF_HDRS) $(wildcard tests/bench/*.h) | $(OUT)/.deps-ok
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/%: tests/bench/%.c $(BENCH_LIB_SRCS) $(TEST_LIB_SRCS) $(TEST_HDRS) \
		$(wildcard tests/bench/*.h) $(OUT)/bench/libxb.a $(SKELS)
	$(call msg,BENCH-CC,$@)
	$(Q)$(CC) $(XB_CFLAGS) -Itests/lib -Itests/bench $(PKG_CFLAGS) -o $@ $< \
		$(BENCH_LIB_SRCS) $(TEST_LIB_SRCS) $(OUT)/bench/libxb.a $(PKG_LIBS)

unit-tests: $(UNIT_BINS) $(BPFTEST_BINS)

# libFuzzer targets: clang's sanitizers over the parsers' own sources (not
# the gcc-built objects: one sanitizer runtime per binary).
FUZZ_NETLINK_SRCS := tests/fuzz/fuzz_netlink.c user/netlink/nl.c user/netlink/xfrm_msg.c \
	user/netlink/xfrm_names.c user/lib/log.c

$(OUT)/tests/fuzz/fuzz_netlink: $(FUZZ_NETLINK_SRCS) $(USER_HDRS) | $(OUT)/.deps-ok
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined -Iuser -Iinclude \
		$(PKG_CFLAGS) -o $@ $(FUZZ_NETLINK_SRCS) $(PKG_LIBS)

fuzz-build: $(OUT)/tests/fuzz/fuzz_netlink

# FUZZ_SECONDS=N (default 600 here, 30 in `make test`).
fuzz: fuzz-build
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash tests/fuzz/test_fuzz_netlink.sh

# The manual page, xfrmbpf(8), from its scdoc source (Debian's scdoc,
# installed by `deps`). Not in `all`: a build needs no scdoc.
man: $(OUT)/man/xfrmbpf.8

$(OUT)/man/xfrmbpf.8: docs/xfrmbpf.8.scd | $(OUT)/.deps-ok
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc < $< > $@

# The kernel-equivalence test loads realistic rule sets with bench_ruleset;
# tests/integration/test_man.sh checks the manual page.
test: all unit-tests $(OUT)/bench/bench_ruleset fuzz-build man
	$(Q)bash tests/run.sh

# KERNEL: 6.1, 6.12 or all (scripts/vm/kernel.sh); `make vmtest` runs all.
# deb: the package that tests/vm/scenarios/deb_service.sh installs.
KERNEL ?= all
vmtest: all unit-tests deb
	$(Q)XB_VM_KERNEL=$(KERNEL) bash tests/vm/run-all.sh

bench: all $(BENCH_BINS) $(BENCH_BPF_OBJS)
	$(Q)bash scripts/bench.sh

demo: all
	$(Q)bash scripts/demo.sh

# The Debian 12 package (debian/): scripts/deb.sh builds it from a copy of
# the tree in build/deb/ and fails on lintian errors. Rebuilt when a file
# git knows changed.
DEB_INPUTS := $(wildcard $(shell git ls-files --cached --others --exclude-standard 2>/dev/null | \
	grep -v '^build/') debian/* debian/source/* VERSION)

deb: $(OUT)/deb/.built

$(OUT)/deb/.built: $(DEB_INPUTS) | $(OUT)/.deps-ok
	$(call msg,DEB,$(OUT)/deb/)
	$(Q)bash scripts/deb.sh
	$(Q)touch $@

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(OUT)/xfrmbpf $(DESTDIR)$(PREFIX)/sbin/xfrmbpf

clean:
	rm -rf $(OUT)
