# posmark - top-level Makefile (GNU make).
#
#   make                    build bin/posmark and bin/posmark-hq (warnings are errors)
#   make SANITIZER=address,undefined   the same into build/asan (tests run under it too)
#   make check              build both variants and run every test in both
#   make test               run the tests of one variant (VARIANT=normal|asan)
#   make bench              benchmarks against the baselines named in docs/benchmarks.md
#   make fuzz               libFuzzer targets from tests/fuzz/ (clang)
#   make install|uninstall|man   PREFIX, DESTDIR: see the last section (docs/packaging.md)
#
# Layout (docs/layout.md): every module directory compiles into
# build/<variant>/lib<module>.a, each object with the compile flags of its
# module's own pkg-config packages (MOD_PKGS_<m>) and the modules it may use
# (MOD_USES_<m>, the table of ARCHITECTURE.md). A program or test links the
# closure of the modules it includes, with their packages' libraries only:
# bin/posmark never links libpq. Header dependencies come from -MMD -MP.

CC         ?= cc
PKG_CONFIG ?= pkg-config
# Extra flags from the command line, e.g. make XCFLAGS=-O0
XCFLAGS    ?=
SANITIZER  ?=
# Where the programs look for posmark/posmark.conf and posmark/hq.conf
# (common/pm_version.h); only common/pm_conf.c uses it.
SYSCONFDIR ?= /etc

# ---- modules: what each may use, and its packages ---------------------------
MOD_USES_common   :=
MOD_USES_drivers  := common
MOD_USES_loyalty  := common
MOD_USES_offers   := common
MOD_USES_mining   := common
MOD_USES_wire     := common
MOD_USES_hostsync := wire common
MOD_USES_hq       := wire mining offers common
MOD_USES_terminal := drivers loyalty offers mining hostsync wire common

MOD_PKGS_common   :=
MOD_PKGS_drivers  := libusb-1.0 libpng cairo
MOD_LIBS_drivers  := -lzint
MOD_PKGS_loyalty  := lmdb
MOD_PKGS_offers   := jansson libsodium
MOD_PKGS_mining   :=
MOD_PKGS_wire     := zlib jansson libsodium
MOD_PKGS_hostsync := libcurl libsodium jansson
MOD_PKGS_hq       := libmicrohttpd libpq jansson libsodium
MOD_PKGS_terminal := jansson libsodium
MOD_LIBS_terminal := -lpthread

# Modules in link order (a module before the ones it uses); absent ones are skipped.
ALL_MODULES := terminal hq hostsync wire mining offers loyalty drivers common
MODULES := $(foreach m,$(ALL_MODULES),$(if $(wildcard $(m)/*.c),$(m)))

TEST_PKGS := cmocka
UMOCK_PKG := umockdev-1.0 glib-2.0 gobject-2.0

WARN   := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -O2 -g $(WARN) -I. -MMD -MP \
	-DPM_SYSCONFDIR='"$(SYSCONFDIR)"' $(XCFLAGS)

ifeq ($(SANITIZER),)
VARIANT ?= normal
else ifeq ($(SANITIZER),address,undefined)
VARIANT ?= asan
BASE_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
else
$(error SANITIZER must be empty or address,undefined)
endif

B := build/$(VARIANT)

pkg_cflags = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --libs $(1)))

# The modules m uses, transitively, in link order; $(call closure,mods).
closure1 = $(foreach m,$(1),$(m) $(MOD_USES_$(m)))
closure = $(filter $(sort $(call closure1,$(call closure1,$(call closure1,$(1))))),$(MODULES))
# Link line of a set of modules: their archives, then their packages' libraries.
mod_archives = $(foreach m,$(call closure,$(1)),$(B)/lib$(m).a)
mod_ldlibs = $(call pkg_libs,$(sort $(foreach m,$(call closure,$(1)),$(MOD_PKGS_$(m))))) \
	$(sort $(foreach m,$(call closure,$(1)),$(MOD_LIBS_$(m)))) -lm
# Compile flags of module m: its packages' and those of the modules it uses
# (their public headers may include a package header, e.g. jansson's).
mod_cflags = $(call pkg_cflags,$(sort $(foreach u,$(call closure,$(1)),$(MOD_PKGS_$(u)))))
# Modules a C file includes ("mod/..."), read from its #include lines.
includes_of = $(filter $(MODULES),$(shell sed -n 's|^\#include "\([a-z]*\)/.*|\1|p' $(1) 2>/dev/null | sort -u))

# Packages a test, benchmark or fuzz target uses directly (its own #include <...>).
HDR_PKG_jansson.h := jansson
HDR_PKG_lmdb.h := lmdb
HDR_PKG_sodium.h := libsodium
HDR_PKG_zlib.h := zlib
HDR_PKG_sqlite3.h := sqlite3
HDR_PKG_libpq-fe.h := libpq
HDR_PKG_curl/curl.h := libcurl
own_pkgs = $(sort $(foreach h,$(shell sed -n 's|^\#include <\([a-z0-9_/.-]*\)>.*|\1|p' $(1) 2>/dev/null),$(HDR_PKG_$(h))))

# Sources per module, programs excluded.
modsrc = $(filter-out %_main.c,$(wildcard $(1)/*.c))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all test check bench fuzz clean demo tests quality
HQ_MAIN := $(firstword $(wildcard hq/hq_main.c hostsync/hq_main.c))
HQ_MOD := $(patsubst %/,%,$(dir $(HQ_MAIN)))
PROGS := posmark $(if $(HQ_MAIN),posmark-hq posmark-hq-main)
all: $(addprefix $(B)/bin/,$(PROGS))
ifeq ($(VARIANT),normal)
all: $(addprefix bin/,$(PROGS))
bin/%: $(B)/bin/%
	@mkdir -p bin
	@rm -f $@ && cp $< $@
endif

define module_rules
$(B)/$(1)/%.o: $(1)/%.c
	@mkdir -p $$(dir $$@)
	@echo '  CC      $$<'
	@$$(CC) $$(BASE_CFLAGS) $(call mod_cflags,$(1)) -c -o $$@ $$<
$(B)/lib$(1).a: $(patsubst %.c,$(B)/%.o,$(call modsrc,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	@ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))
# the console's assets are .incbin'ed (hq/hq_console_assets.c): -MMD does not see them
$(B)/hq/hq_console_assets.o: $(wildcard hq/web/*)

$(B)/bin/posmark: $(B)/terminal/posmark_main.o $(call mod_archives,terminal)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	@$(CC) $(LDFLAGS) -o $@ $< $(call mod_archives,terminal) $(call mod_ldlibs,terminal)

ifneq ($(HQ_MAIN),)
# HQ's full program (hq_main.c) and bin/posmark-hq, its front (hq_front_main.c, docs/hq.md "The
# front program"): the front answers `card` over serve's admin socket and execs the full program
# for everything else. It links hq/'s libc-only parts (hq_lite_int.h) with libc and libsodium
# only: a part that starts to need libpq (or GnuTLS via libmicrohttpd) fails this link.
$(B)/bin/posmark-hq-main: $(B)/$(HQ_MOD)/hq_main.o $(call mod_archives,$(HQ_MOD))
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	@$(CC) $(LDFLAGS) -o $@ $< $(call mod_archives,$(HQ_MOD)) $(call mod_ldlibs,$(HQ_MOD))
$(B)/bin/posmark-hq: $(B)/$(HQ_MOD)/hq_front_main.o $(B)/lib$(HQ_MOD).a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	@$(CC) $(LDFLAGS) -o $@ $< $(B)/lib$(HQ_MOD).a $(B)/libcommon.a $(call pkg_libs,libsodium)
endif

# Unit tests link the modules they include (and what those use), plus
# cmocka; test_umock_* also link umockdev.
define unit_rule
$(B)/tests/$(1): tests/unit/$(1).c $(call mod_archives,$(2))
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	@$$(CC) $$(BASE_CFLAGS) $(call mod_cflags,$(2)) $(if $(findstring test_umock,$(1)),$$(shell $$(PKG_CONFIG) --cflags $$(UMOCK_PKG)) -Wno-strict-prototypes) $$(shell $$(PKG_CONFIG) --cflags $$(TEST_PKGS) $(3)) $$(LDFLAGS) -o $$@ $$< \
		$(call mod_archives,$(2)) $(call mod_ldlibs,$(2)) $$(shell $$(PKG_CONFIG) --libs $$(TEST_PKGS) $(3)) -lpthread $(if $(findstring test_umock,$(1)),$$(shell $$(PKG_CONFIG) --libs $$(UMOCK_PKG)))
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(basename $(notdir $(t))),$(call includes_of,$(t)),$(call own_pkgs,$(t)))))

tests: all $(UNIT_BIN)

# Run every test of one variant; prints "N passed, N failed".
test: tests
	@VARIANT=$(VARIANT) BUILD=$(B) bash tests/run.sh

# Both variants, as CI does.
check:
	$(MAKE) tests
	$(MAKE) SANITIZER=address,undefined tests
	@bash tests/run-all.sh

define bench_rule
$(B)/bench/$(1): bench/$(1).c $(call mod_archives,$(2))
	@mkdir -p $$(dir $$@)
	@echo "  BENCH   $$@"
	@$$(CC) $$(BASE_CFLAGS) $(call mod_cflags,$(2)) $(call pkg_cflags,$(3)) $$(LDFLAGS) -o $$@ $$< $(call mod_archives,$(2)) $(call mod_ldlibs,$(2)) $(call pkg_libs,$(3)) -lpthread
endef
$(foreach t,$(BENCH_SRC),$(eval $(call bench_rule,$(basename $(notdir $(t))),$(call includes_of,$(t)),$(call own_pkgs,$(t)))))

bench: all $(BENCH_BIN)
	@BUILD=$(B) bash bench/run.sh

# The next-visit evaluation of the offers (bench/quality.sh; bench/run.sh runs it too).
quality: all
	@BUILD=$(B) bash bench/quality.sh

# libFuzzer targets: the library sources are compiled once with fuzzer
# instrumentation; each target links the modules it includes.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -I. -MMD -MP -DPM_SYSCONFDIR='"$(SYSCONFDIR)"'
FUZZ_SAN := -fsanitize=address,undefined
define fuzz_module_rules
build/fuzz/obj/$(1)/%.o: $(1)/%.c
	@mkdir -p $$(dir $$@)
	@clang $$(FUZZ_CFLAGS) $(call mod_cflags,$(1)) $$(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $$@ $$<
endef
$(foreach m,$(MODULES),$(eval $(call fuzz_module_rules,$(m))))
fuzz_objs = $(foreach m,$(call closure,$(1)),$(patsubst %.c,build/fuzz/obj/%.o,$(call modsrc,$(m))))
define fuzz_rule
build/fuzz/$(1): tests/fuzz/$(1).c $(call fuzz_objs,$(2))
	@mkdir -p $$(dir $$@)
	@echo "  FUZZ    $$@"
	@clang $$(FUZZ_CFLAGS) $(call mod_cflags,$(2)) $(call pkg_cflags,$(3)) $$(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$< $(call fuzz_objs,$(2)) $(call mod_ldlibs,$(2)) $(call pkg_libs,$(3)) -lpthread
endef
$(foreach t,$(FUZZ_SRC),$(eval $(call fuzz_rule,$(basename $(notdir $(t))),$(call includes_of,$(t)),$(call own_pkgs,$(t)))))
fuzz: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

demo: all
	bash scripts/demo.sh --no-install

clean:
	rm -rf build bin

-include $(shell find $(B) build/fuzz -name "*.d" 2>/dev/null)

# =============================================================================
# Install, uninstall, man pages (issue 17; docs/packaging.md). Kept apart from
# the build above: it only reads $(B)/bin/ and the files under dist/.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   programs (posmark-hq's full program in
#                    libexec/posmark-hq/), man pages, docs,
#                    config examples, systemd units, sysusers.d, udev rule,
#                    bash completion (debian/rules runs it with PREFIX=/usr)
#   make uninstall [PREFIX=...] [DESTDIR=]        removes exactly those files
#   make man                                      build/man/posmark.1, posmark-hq.8
#
# /etc/posmark/posmark.conf and hq.conf (and /etc/default/posmark-hq) are
# installed only where absent, so a reinstall keeps the local edits; the same
# files always go to share/doc/posmark{,-hq}/examples/. uninstall removes an
# /etc file only if it is still the shipped one. With PREFIX=/usr the units and
# the udev rule go under /lib (Debian 12's systemd and udev directories);
# otherwise under $(PREFIX)/lib, which systemd and udev also read.
# =============================================================================
PREFIX      ?= /usr/local
DESTDIR     ?=
SYSCONFDIR  ?= /etc
VERSION_CL  := $(shell head -n1 debian/changelog 2>/dev/null | cut -d'(' -f2 | cut -d')' -f1 | cut -d- -f1)
VERSION     ?= $(if $(VERSION_CL),$(VERSION_CL),0.0)
BINDIR      := $(PREFIX)/bin
# posmark-hq's full program: the front in $(BINDIR) execs ../libexec/posmark-hq/posmark-hq-main
# (docs/hq.md, "The front program"), so this is always $(PREFIX)/libexec.
LIBEXECDIR  := $(PREFIX)/libexec
MANDIR      := $(PREFIX)/share/man
DOCDIR      := $(PREFIX)/share/doc/posmark
HQDOCDIR    := $(PREFIX)/share/doc/posmark-hq
SYSTEMLIB   := $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)
UNITDIR     := $(SYSTEMLIB)/systemd/system
UDEVDIR     := $(SYSTEMLIB)/udev/rules.d
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
COMPDIR     := $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install

MAN_OUT := build/man
# The docs of the terminal package; hq.md goes with posmark-hq.
POSMARK_DOCS := README.md $(filter-out docs/hq.md,$(wildcard docs/*.md))
POSMARK_EXAMPLES := $(wildcard docs/examples/*)

.PHONY: man install uninstall

man: $(MAN_OUT)/posmark.1 $(MAN_OUT)/posmark-hq.8

$(MAN_OUT)/posmark.1: $(B)/bin/posmark dist/man/posmark.h2m scripts/gen-man.sh scripts/list-commands.sh
	@echo '  MAN     $@'
	@bash scripts/gen-man.sh $(B)/bin/posmark 1 "loyalty and offers for point-of-sale terminals" \
		dist/man/posmark.h2m $@ $(VERSION)

$(MAN_OUT)/posmark-hq.8: $(B)/bin/posmark-hq $(B)/bin/posmark-hq-main dist/man/posmark-hq.h2m scripts/gen-man.sh scripts/list-commands.sh
	@echo '  MAN     $@'
	@bash scripts/gen-man.sh $(B)/bin/posmark-hq 8 "posmark HQ receiver, reports and rule publishing" \
		dist/man/posmark-hq.h2m $@ $(VERSION)

# $(call install_once,SRC,DEST): install SRC unless DEST exists (a local config).
install_once = if [ -e $(2) ]; then echo "  KEEP    $(2) (exists; the shipped one is in the examples)"; \
	else $(INSTALL) -m 0644 $(1) $(2); fi
# $(call remove_if_shipped,SRC,DEST): remove DEST if it is still SRC.
remove_if_shipped = if [ -e $(2) ] && ! cmp -s $(1) $(2); then echo "  KEEP    $(2) (edited)"; else rm -f $(2); fi

install: all man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(HQDOCDIR)/examples \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(UDEVDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(COMPDIR) \
		$(DESTDIR)$(SYSCONFDIR)/posmark $(DESTDIR)$(SYSCONFDIR)/default $(DESTDIR)$(LIBEXECDIR)/posmark-hq
	$(INSTALL) -m 0755 $(B)/bin/posmark $(B)/bin/posmark-hq $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(B)/bin/posmark-hq-main $(DESTDIR)$(LIBEXECDIR)/posmark-hq/
	gzip -9n -c $(MAN_OUT)/posmark.1 >$(DESTDIR)$(MANDIR)/man1/posmark.1.gz
	gzip -9n -c $(MAN_OUT)/posmark-hq.8 >$(DESTDIR)$(MANDIR)/man8/posmark-hq.8.gz
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/posmark.1.gz $(DESTDIR)$(MANDIR)/man8/posmark-hq.8.gz
	$(INSTALL) -m 0644 $(POSMARK_DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(POSMARK_EXAMPLES) dist/posmark.conf $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 docs/hq.md $(DESTDIR)$(HQDOCDIR)/
	$(INSTALL) -m 0644 dist/hq.conf $(DESTDIR)$(HQDOCDIR)/examples/
	$(INSTALL) -m 0644 dist/posmark-hq.default $(DESTDIR)$(HQDOCDIR)/examples/
	@$(call install_once,dist/posmark.conf,$(DESTDIR)$(SYSCONFDIR)/posmark/posmark.conf)
	@$(call install_once,dist/hq.conf,$(DESTDIR)$(SYSCONFDIR)/posmark/hq.conf)
	@$(call install_once,dist/posmark-hq.default,$(DESTDIR)$(SYSCONFDIR)/default/posmark-hq)
	sed 's|/usr/bin/|$(BINDIR)/|' dist/posmark.service >$(DESTDIR)$(UNITDIR)/posmark.service
	sed 's|/usr/bin/|$(BINDIR)/|' dist/posmark-hq.service >$(DESTDIR)$(UNITDIR)/posmark-hq.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/posmark.service $(DESTDIR)$(UNITDIR)/posmark-hq.service
	$(INSTALL) -m 0644 dist/60-posmark.rules $(DESTDIR)$(UDEVDIR)/60-posmark.rules
	$(INSTALL) -m 0644 dist/posmark.sysusers $(DESTDIR)$(SYSUSERSDIR)/posmark.conf
	$(INSTALL) -m 0644 dist/posmark-hq.sysusers $(DESTDIR)$(SYSUSERSDIR)/posmark-hq.conf
	$(INSTALL) -m 0644 dist/completion/posmark.bash $(DESTDIR)$(COMPDIR)/posmark
	$(INSTALL) -m 0644 dist/completion/posmark.bash $(DESTDIR)$(COMPDIR)/posmark-hq
	@if [ -z "$(DESTDIR)" ]; then \
		echo "next: systemd-sysusers; udevadm control --reload; systemctl daemon-reload;" \
		     "systemctl enable --now posmark (docs/packaging.md)"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/posmark $(DESTDIR)$(BINDIR)/posmark-hq
	rm -f $(DESTDIR)$(LIBEXECDIR)/posmark-hq/posmark-hq-main
	-rmdir $(DESTDIR)$(LIBEXECDIR)/posmark-hq 2>/dev/null || true
	rm -f $(DESTDIR)$(MANDIR)/man1/posmark.1.gz $(DESTDIR)$(MANDIR)/man8/posmark-hq.8.gz
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(POSMARK_DOCS)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(POSMARK_EXAMPLES)) posmark.conf)
	rm -f $(DESTDIR)$(HQDOCDIR)/hq.md $(DESTDIR)$(HQDOCDIR)/examples/hq.conf \
		$(DESTDIR)$(HQDOCDIR)/examples/posmark-hq.default
	@$(call remove_if_shipped,dist/posmark.conf,$(DESTDIR)$(SYSCONFDIR)/posmark/posmark.conf)
	@$(call remove_if_shipped,dist/hq.conf,$(DESTDIR)$(SYSCONFDIR)/posmark/hq.conf)
	@$(call remove_if_shipped,dist/posmark-hq.default,$(DESTDIR)$(SYSCONFDIR)/default/posmark-hq)
	rm -f $(DESTDIR)$(UNITDIR)/posmark.service $(DESTDIR)$(UNITDIR)/posmark-hq.service
	rm -f $(DESTDIR)$(UDEVDIR)/60-posmark.rules
	rm -f $(DESTDIR)$(SYSUSERSDIR)/posmark.conf $(DESTDIR)$(SYSUSERSDIR)/posmark-hq.conf
	rm -f $(DESTDIR)$(COMPDIR)/posmark $(DESTDIR)$(COMPDIR)/posmark-hq
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(HQDOCDIR)/examples \
		$(DESTDIR)$(HQDOCDIR) $(DESTDIR)$(SYSCONFDIR)/posmark 2>/dev/null || true
