# ftpath - one non-recursive Makefile (the ASan pass re-enters it with
# BUILD/SAN set, which only changes the output directory and flags).

PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
SAN	?=
CC	?= cc
PKG_CONFIG ?= pkg-config

PKGS	= libevent libevent_openssl openssl libnftnl libmnl libnftables jansson
TEST_PKGS = cmocka

WARN	= -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -Wwrite-strings \
	  -Wimplicit-fallthrough -Werror
ifeq ($(SAN),1)
OPT	= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=all
SANLD	= -fsanitize=address,undefined
else ifeq ($(SAN),fuzz)
# make fuzz: clang, every object with coverage for libFuzzer
OPT	= -O1 -g -fno-omit-frame-pointer \
	  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
SANLD	= -fsanitize=address,undefined
else
OPT	= -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SANLD	=
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS  = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

CPPFLAGS += -D_GNU_SOURCE -Icommon -Iagent -Ireflector -Inft \
	    -DFTPATH_VERSION='"$(VERSION)"'
CFLAGS	?=
ALL_CFLAGS = $(WARN) $(OPT) -fPIE $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now $(SANLD)

VERSION	= 0.1.0

COMMON_SRC	= $(wildcard common/*.c)
NFT_SRC		= $(wildcard nft/*.c)
AGENT_LIB_SRC	= $(filter-out agent/main.c,$(wildcard agent/*.c))
REFL_LIB_SRC	= $(filter-out reflector/main.c,$(wildcard reflector/*.c))
UNIT_SRC	= $(wildcard tests/unit/test_*.c)
# Every libFuzzer target: one wildcard, so a new tests/fuzz/fuzz_X.c
# (with tests/fuzz/corpus/fuzz_X/) needs no Makefile change.
FUZZ_SRC	= $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON	= $(BUILD)/libcommon.a
LIBNFT		= $(BUILD)/libnft.a
LIBAGENT	= $(BUILD)/libagent.a
LIBREFL		= $(BUILD)/libreflector.a
AGENT		= $(BUILD)/ftpath-agent
REFLECTOR	= $(BUILD)/ftpath-reflector
UNIT_BINS	= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_BINS	= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
# Executions per target in make check's short run.
FUZZ_RUNS	?= 20000

.PHONY: all deps programs check unit unit-asan netns bench demo install \
	uninstall clean lint format clang-build fuzz fuzz-bins fuzz-smoke

all: deps
	@$(MAKE) --no-print-directory programs

programs: $(AGENT) $(REFLECTOR)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
$(LIBNFT): $(call obj,$(NFT_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
$(LIBAGENT): $(call obj,$(AGENT_LIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
$(LIBREFL): $(call obj,$(REFL_LIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(AGENT): $(BUILD)/agent/main.o $(LIBAGENT) $(LIBNFT) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)
$(REFLECTOR): $(BUILD)/reflector/main.o $(LIBREFL) $(LIBNFT) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBAGENT) $(LIBREFL) $(LIBNFT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS) $(TEST_LIBS)

# nft/ namespace test driver, run by tests/netns/fw_test.sh.
$(BUILD)/tests/fw_driver: $(BUILD)/tests/netns/fw_driver.o $(LIBNFT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# agent/ftpcheck namespace test driver, run by tests/netns/ftpcheck_test.sh.
$(BUILD)/tests/ftpcheck_driver: $(BUILD)/tests/netns/ftpcheck_driver.o $(LIBAGENT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# Unit tests: no root, no network.  Each binary is a cmocka suite.
unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 unit

# libFuzzer targets (clang; -fsanitize=fuzzer,address,undefined) linked
# against the project's archives built the same way in build/fuzz.
fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzz SAN=fuzz CC=clang \
	    fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIBAGENT) $(LIBREFL) $(LIBNFT) \
	    $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# Each target briefly (FUZZ_RUNS executions) from its seed corpus.
fuzz-smoke: fuzz
	@scripts/fuzz-run.sh build/fuzz/fuzz -runs=$(FUZZ_RUNS)

# Namespace integration scenarios (root, real kernel, vsftpd, curl).
netns: programs $(BUILD)/tests/fw_driver $(BUILD)/tests/ftpcheck_driver
	@tests/netns/run.sh $(BUILD)
	@tests/netns/fw_test.sh $(BUILD)/tests/fw_driver
	@tests/netns/ftpcheck_test.sh $(BUILD)/tests/ftpcheck_driver
	@tests/netns/crash_test.sh $(BUILD)
	@tests/netns/hostile_test.sh $(BUILD)

# Both compilers must build warning-free; the clang build is only compiled.
clang-build:
	@$(MAKE) --no-print-directory BUILD=build/clang CC=clang programs

check: deps
	@$(MAKE) --no-print-directory programs
	@$(MAKE) --no-print-directory clang-build
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory netns

bench: deps
	@$(MAKE) --no-print-directory programs
	@tests/bench/bench.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory programs
	@tests/netns/demo.sh $(BUILD)

QUEUE_H = $(firstword $(wildcard /usr/include/sys/queue.h /usr/include/*/sys/queue.h))

# cppcheck reads our headers only (system headers make it slow and report
# on third-party code): queue.h is pre-included for the list macros and
# scripts/jansson.cfg expands jansson's foreach macros.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 --inline-suppr -Icommon -Iagent -Ireflector -Inft \
	    --include=$(QUEUE_H) --library=scripts/jansson.cfg \
	    common agent reflector nft tests

format:
	clang-format -i $(COMMON_SRC) $(NFT_SRC) agent/*.c reflector/*.c \
	    common/*.h agent/*.h reflector/*.h

install: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ftpath
	install -m 0755 $(AGENT) $(REFLECTOR) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 deploy/ftpath-certs $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 deploy/reflector.conf.example \
	    $(DESTDIR)$(PREFIX)/share/ftpath/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ftpath-agent \
	    $(DESTDIR)$(PREFIX)/bin/ftpath-reflector \
	    $(DESTDIR)$(PREFIX)/bin/ftpath-certs
	rm -rf $(DESTDIR)$(PREFIX)/share/ftpath

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
