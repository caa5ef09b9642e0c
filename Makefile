# ftpath - one non-recursive Makefile (the ASan pass re-enters it with
# BUILD/SAN set, which only changes the output directory and flags).

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/ftpath
# systemd reads /usr/local/lib/systemd/system too; Debian's packages
# keep /lib/systemd/system (debian/rules sets it).
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
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
MAN5		= deploy/man/ftpath-reflector.conf.5 deploy/man/ftpath-report.5
MAN8		= deploy/man/ftpath-agent.8 deploy/man/ftpath-reflector.8 \
		  deploy/man/ftpath-certs.8
UNIT_BINS	= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_BINS	= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
# Executions per target in make check's short run.
FUZZ_RUNS	?= 20000

.PHONY: all deps pkgcheck testpkgcheck programs check unit unit-asan netns \
	bench demo install uninstall clean lint format clang-build manlint deb \
	fuzz fuzz-bins fuzz-smoke

# make and make install never install packages (a production FTP host
# must not lose its FTP server to our test tools); make check and make
# demo do, through scripts/deps.sh, which refuses to remove anything.
all: programs

programs: $(AGENT) $(REFLECTOR)

deps:
	@scripts/deps.sh build test

# A missing -dev package named once, instead of a compiler error storm.
pkgcheck:
	@scripts/deps.sh check $(PKGS)
testpkgcheck:
	@scripts/deps.sh check $(TEST_PKGS)

$(BUILD)/%.o: %.c | pkgcheck
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

# nft/patch namespace test driver, run by tests/netns/patch_test.sh.
$(BUILD)/tests/patch_driver: $(BUILD)/tests/netns/patch_driver.o $(LIBNFT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# nft/apply's apply_run() namespace test driver, run by tests/netns/apply_test.sh.
$(BUILD)/tests/apply_driver: $(BUILD)/tests/netns/apply_driver.o $(LIBNFT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# agent/ftpcheck namespace test driver, run by tests/netns/ftpcheck_test.sh.
$(BUILD)/tests/ftpcheck_driver: $(BUILD)/tests/netns/ftpcheck_driver.o $(LIBAGENT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

$(call obj,$(UNIT_SRC)): | testpkgcheck

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
netns: programs $(BUILD)/tests/fw_driver $(BUILD)/tests/patch_driver \
	    $(BUILD)/tests/ftpcheck_driver $(BUILD)/tests/apply_driver
	@tests/netns/run.sh $(BUILD)
	@tests/netns/fw_test.sh $(BUILD)/tests/fw_driver
	@tests/netns/patch_test.sh $(BUILD)/tests/patch_driver
	@tests/netns/apply_test.sh $(BUILD)
	@tests/netns/watch_test.sh $(BUILD)
	@tests/netns/ftpcheck_test.sh $(BUILD)/tests/ftpcheck_driver
	@tests/netns/crash_test.sh $(BUILD)
	@tests/netns/hostile_test.sh $(BUILD)
	@tests/netns/cli_test.sh $(BUILD)
	@tests/netns/flood_test.sh $(BUILD)
	@tests/netns/nat_test.sh $(BUILD)
	@tests/netns/crl_test.sh $(BUILD)

# Both compilers must build warning-free; the clang build is only compiled.
clang-build:
	@$(MAKE) --no-print-directory BUILD=build/clang CC=clang programs

# mandoc -Tlint at every level, and every option of --help documented
# (scripts/manlint.sh says which message it judges itself, and why).
manlint:
	@scripts/manlint.sh $(BUILD) $(MAN5) $(MAN8)

# make deb takes about 30 s here (its unit tests skipped: they run below
# anyway), so it is part of check: lintian must report no error.
check:
	@scripts/deps.sh build test deb
	@tests/deps_test.sh
	@$(MAKE) --no-print-directory programs
	@$(MAKE) --no-print-directory manlint
	@tests/install_test.sh
	@DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory deb
	@$(MAKE) --no-print-directory clang-build
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory netns

bench: deps
	@$(MAKE) --no-print-directory programs
	@tests/bench/bench.sh $(BUILD)
	@FTPATH_LOAD_MAX_SESSIONS=default tests/bench/load.sh 100 $(BUILD)
	@tests/bench/ports.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory programs
	@tests/netns/demo.sh $(BUILD)

QUEUE_H = $(firstword $(wildcard /usr/include/sys/queue.h /usr/include/*/sys/queue.h))

# cppcheck reads our headers only (system headers make it slow and report
# on third-party code): queue.h is pre-included for the list macros and
# scripts/jansson.cfg expands jansson's foreach macros.  __CPPCHECK__
# selects the plain-cast ADDR_SA (addr.h); --force checks every
# configuration instead of stopping at twelve.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c11 --inline-suppr -D__CPPCHECK__ --force -Icommon -Iagent -Ireflector -Inft \
	    --include=$(QUEUE_H) --library=scripts/jansson.cfg \
	    common agent reflector nft tests

format:
	clang-format -i $(COMMON_SRC) $(NFT_SRC) agent/*.c reflector/*.c \
	    common/*.h agent/*.h reflector/*.h

install: programs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(AGENT) deploy/ftpath-certs $(DESTDIR)$(BINDIR)/
	install -m 0755 $(REFLECTOR) $(DESTDIR)$(SBINDIR)/
	install -m 0644 deploy/reflector.conf.example $(DESTDIR)$(DATADIR)/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	@# the unit with the paths of this install (made here, not at build
	@# time, so that make; make install PREFIX=/usr cannot install a
	@# stale one); ExecStartPre runs the -n check
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    deploy/ftpath-reflector.service.in \
	    >$(DESTDIR)$(UNITDIR)/ftpath-reflector.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ftpath-reflector.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ftpath-agent \
	    $(DESTDIR)$(SBINDIR)/ftpath-reflector \
	    $(DESTDIR)$(BINDIR)/ftpath-certs \
	    $(DESTDIR)$(UNITDIR)/ftpath-reflector.service
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -rf $(DESTDIR)$(DATADIR)

# Debian packages into build/deb (built from a copy of the tree there,
# since dpkg-buildpackage writes into the parent directory), then lintian.
deb:
	@scripts/deps.sh build deb
	@scripts/mkdeb.sh $(BUILD)/deb
	@tests/deb_test.sh $(BUILD)/deb

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
