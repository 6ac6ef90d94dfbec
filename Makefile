# SPDX-License-Identifier: AGPL-3.0-or-later
# coffre: one Makefile. `make help` lists the targets.

CC        ?= gcc
FUZZ_CC   ?= clang
PKGS      := libmicrohttpd gnutls libsodium sqlite3 jansson inih libutf8proc \
             liboath libqrencode libcurl
DATA      ?= ./var
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PY        := /usr/bin/python3
Q         := $(if $(V),,@)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libzxcvbn ships no pkg-config file.
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lzxcvbn -lm -lpthread

WARN := -Wall -Wextra -Werror -Wpedantic -Wformat=2 -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wpointer-arith -Wwrite-strings -Wvla -Wimplicit-fallthrough \
	-Wswitch-enum
WARN_GCC := -Wjump-misses-init
HARDEN := -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	-fstack-clash-protection -fcf-protection=full -fPIE \
	-ftrivial-auto-var-init=zero -fzero-call-used-regs=used
HARDEN_LD := -pie -Wl,-z,relro,-z,now,-z,noexecstack
SAN := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -U_FORTIFY_SOURCE -DCF_DEBUG_ERR

BASE_CFLAGS = -std=c17 -Isrc -Ibuild/gen -DCOFFRE_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS)

SRCS      := $(sort $(wildcard src/*/*.c))
MAIN_SRC  := src/cli/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(SRCS)) build/gen/web_assets.c \
	build/gen/common_passwords.c
WEB_FILES := $(shell find web -type f ! -name '.*' 2>/dev/null | sort)

REL_OBJS  := $(patsubst %.c,build/obj/%.o,$(LIB_SRCS))
SAN_OBJS  := $(patsubst %.c,build/san/obj/%.o,$(LIB_SRCS))
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

.PHONY: all help deps run test unit api e2e fuzz fuzz-replay bench tls-check lint \
	walls clean san release

all: build/coffre

help:
	@echo "make deps     install every Debian package and npm module needed"
	@echo "make          hardened release build: build/coffre"
	@echo "make run      deps, build, demo tenant in $(DATA), serve"
	@echo "make test     deps, sanitizer build, unit + fuzz replay + API + browser tests"
	@echo "make fuzz     run each libFuzzer target for 60 s"
	@echo "make bench    benchmarks against their baselines (bench/RESULTS.md)"
	@echo "make tls-check  testssl scan of a running server (about a minute)"
	@echo "make lint     clang-format, clang-tidy, cppcheck, include walls"
	@echo "make clean    remove build/"

deps:
	@scripts/deps.sh

# ---- generated sources --------------------------------------------------
build/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) -std=c17 -O2 -Wall -Wextra -Werror -Wpedantic -o $@ $<

build/gen/web_assets.c: build/tools/embed $(WEB_FILES)
	@mkdir -p $(@D)
	build/tools/embed $@ web

build/tools/wordlist: tools/wordlist.c
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) -std=c17 -O2 -Wall -Wextra -Werror -Wpedantic -o $@ $<

build/gen/common_passwords.c: build/tools/wordlist data/common-passwords.txt
	@mkdir -p $(@D)
	build/tools/wordlist $@ data/common-passwords.txt auth_common_passwords \
		auth/auth_int.h

# ---- release build ------------------------------------------------------
release: build/coffre

build/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(WARN) $(WARN_GCC) $(HARDEN) -MMD -MP -c -o $@ $<

build/coffre: $(REL_OBJS) build/obj/$(MAIN_SRC:.c=.o)
	@echo "  LD $@"
	$(Q)$(CC) $(HARDEN) $(HARDEN_LD) -o $@ $^ $(PKG_LIBS)

# ---- sanitizer build ----------------------------------------------------
san: build/san/coffre

build/san/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(WARN) $(WARN_GCC) $(SAN) -MMD -MP -c -o $@ $<

build/san/coffre: $(SAN_OBJS) build/san/obj/$(MAIN_SRC:.c=.o)
	@echo "  LD $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/san/tests/%: tests/unit/%.c $(SAN_OBJS)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Itests/unit $(WARN) $(SAN) -o $@ $< $(SAN_OBJS) \
		$(PKG_LIBS) -lcmocka

# ---- fuzz build (clang, libFuzzer) ---------------------------------------
build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $@"
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(WARN) -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

# ---- the two commands ----------------------------------------------------
run: deps build/coffre
	@scripts/run-demo.sh $(DATA)

# The layers run through scripts/test.sh: each one's output goes to
# build/test-logs/, and the run ends with what failed, one summary line per
# layer and a total line. Every layer runs even after one fails.
test: deps
	@$(MAKE) -s --no-print-directory build/san/coffre build/coffre $(UNIT_BINS) \
		$(FUZZ_BINS) || { echo "total: the build failed, no test ran: FAILED"; \
		exit 1; }
	@PY=$(PY) scripts/test.sh unit fuzz api api-release browser

unit: $(UNIT_BINS)
	@scripts/test.sh unit

fuzz-replay: $(FUZZ_BINS)
	@scripts/test.sh fuzz

fuzz: $(FUZZ_BINS)
	@scripts/fuzz.sh run $(FUZZ_BINS)

# api: the sanitizer build, then the hardened release build
# (_FORTIFY_SOURCE, no sanitizer) through the paths that lock accounts and
# send every kind of mail
api: build/san/coffre build/coffre
	@PY=$(PY) scripts/test.sh api api-release

e2e: build/san/coffre
	@scripts/test.sh browser

build/bench/%: bench/%.c $(REL_OBJS)
	@mkdir -p $(@D)
	@echo "  LD $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(WARN) $(HARDEN) $(HARDEN_LD) -o $@ $< \
		$(REL_OBJS) $(PKG_LIBS)

bench: build/coffre build/bench/pwhash
	bench/http.sh
	build/bench/pwhash
	bench/login.sh
	bench/session.sh

tls-check: build/coffre
	scripts/tls-check.sh

lint:
	@scripts/lint.sh

walls:
	@scripts/check-walls.sh

clean:
	rm -rf build

# Objects are never intermediate: a failed step must not delete them.
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
