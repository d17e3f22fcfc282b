# posmark - top-level Makefile (GNU make).
#
#   make                    build bin/posmark and bin/posmark-hq (warnings are errors)
#   make SANITIZER=address,undefined   the same into build/asan (tests run under it too)
#   make check              build both variants and run every test in both
#   make test               run the tests of one variant (VARIANT=normal|asan)
#   make bench              benchmarks against the baselines named in docs/benchmarks.md
#   make fuzz               libFuzzer targets from tests/fuzz/ (clang)
#
# Layout: every module directory (common drivers loyalty offers hostsync terminal)
# compiles into build/<variant>/lib<module>.a. A file named *_main.c is a program:
# terminal/posmark_main.c -> posmark, hostsync/hq_main.c -> posmark-hq.
# tests/unit/test_*.c are cmocka programs linked against every module library.

CC         ?= cc
PKG_CONFIG ?= pkg-config
# Extra flags from the command line, e.g. make XCFLAGS=-O0
XCFLAGS    ?=
SANITIZER  ?=

PKGS      := lmdb libusb-1.0 libcurl zlib jansson libsodium libmicrohttpd libpq libpng cairo
TEST_PKGS := cmocka
UMOCK_PKG := umockdev-1.0 glib-2.0 gobject-2.0

WARN   := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -O2 -g $(WARN) -I. $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(XCFLAGS)
LDLIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lzint -lpthread -lm

ifeq ($(SANITIZER),)
VARIANT ?= normal
else ifeq ($(SANITIZER),address,undefined)
VARIANT ?= asan
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
else
$(error SANITIZER must be empty or address,undefined)
endif

B := build/$(VARIANT)
MODULES := common drivers loyalty offers hostsync terminal

# Sources per module, programs excluded.
modsrc = $(filter-out %_main.c,$(wildcard $(1)/*.c))
LIBS := $(foreach m,$(MODULES),$(B)/lib$(m).a)
# Link order: terminal uses everything; common is used by all.
LINKLIBS := $(B)/libterminal.a $(B)/libhostsync.a $(B)/liboffers.a $(B)/libloyalty.a $(B)/libdrivers.a $(B)/libcommon.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all test check bench fuzz clean demo tests
# posmark-hq exists once hostsync/ has its receiver.
PROGS := posmark $(if $(wildcard hostsync/hq_main.c),posmark-hq)
all: $(addprefix $(B)/bin/,$(PROGS))
ifeq ($(VARIANT),normal)
all: $(addprefix bin/,$(PROGS))
bin/%: $(B)/bin/%
	@mkdir -p bin
	@rm -f $@ && cp $< $@
endif

$(B)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	@$(CC) $(CFLAGS) -c -o $@ $<

define module_lib
$(B)/lib$(1).a: $(patsubst %.c,$(B)/%.o,$(call modsrc,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	@ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_lib,$(m))))

$(B)/bin/posmark: $(B)/terminal/posmark_main.o $(LIBS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	@$(CC) $(LDFLAGS) -o $@ $< $(LINKLIBS) $(LDLIBS)

$(B)/bin/posmark-hq: $(B)/hostsync/hq_main.o $(LIBS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	@$(CC) $(LDFLAGS) -o $@ $< $(LINKLIBS) $(LDLIBS)

# Unit tests link every module plus cmocka; test_usb_* also link umockdev.
$(B)/tests/%: tests/unit/%.c $(LIBS) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) $(if $(findstring test_umock,$*),$(shell $(PKG_CONFIG) --cflags $(UMOCK_PKG)) -Wno-strict-prototypes) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) $(LDFLAGS) -o $@ $< \
		$(LINKLIBS) $(LDLIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS)) $(if $(findstring test_umock,$*),$(shell $(PKG_CONFIG) --libs $(UMOCK_PKG)))

tests: all $(UNIT_BIN)

# Run every test of one variant; prints "N passed, N failed".
test: tests
	@VARIANT=$(VARIANT) BUILD=$(B) bash tests/run.sh

# Both variants, as CI does.
check:
	$(MAKE) tests
	$(MAKE) SANITIZER=address,undefined tests
	@bash tests/run-all.sh

$(B)/bench/%: bench/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LINKLIBS) $(LDLIBS) $(shell $(PKG_CONFIG) --libs sqlite3)

bench: all $(BENCH_BIN)
	@BUILD=$(B) bash bench/run.sh

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -I. $(shell $(PKG_CONFIG) --cflags $(PKGS))
FUZZ_SAN := -fsanitize=address,undefined
# The library sources are compiled once with fuzzer instrumentation and
# linked into every target (terminal/ too, for the daemon's API).
FUZZ_LIBSRC := $(foreach m,common drivers loyalty offers hostsync terminal,$(call modsrc,$(m)))
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIBSRC))
fuzz: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
build/fuzz/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	@clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

demo: all
	bash scripts/demo.sh --no-install

clean:
	rm -rf build bin
