# airouter: build, test and demo against Debian's nginx.
#
#   make help       this list
#   make deps       install what is missing from Debian (no-op when present)
#   make            build build/ngx_http_airouter_module.so and
#                   build/airouter-import (tools/airouter-import)
#   make test       unit tests + Test::Nginx suites, one summary line at the end
#   make test-asan  the same with AddressSanitizer + UBSan
#   make test-hup   the same with a reload (HUP) between blocks, not a restart
#   make test-valgrind  the same with nginx under valgrind (slow: use T=...)
#   make callgraph  the cross-file call graph check alone, circles listed
#   make dashboard  regenerate src/ngx_http_airouter_dashboard_page.h from
#                   dashboard/ (after editing the page)
#   make fuzz       each fuzz target for FUZZ_SECONDS under ASan + UBSan
#                   (make fuzz-clang: the same with libFuzzer)
#   make demo       start nginx with conf.example/ on 127.0.0.1:$(PORT), its
#                   demo channels on DEMO_PORTS, in DEMO_DIR (run/demo)
#   make stop       stop the demo (the one in DEMO_DIR)
#   make bench      benchmarks (see bench/README.md)
#   make install    the module, its load_module snippet (enabled), the example
#                   config (only where none is), examples and docs, in
#                   Debian's nginx layout; DESTDIR and PREFIX honoured
#                   (make uninstall)
#   make deb        build/libnginx-mod-http-airouter_<version>_<arch>.deb

PORT        ?= 8080
LISTEN      ?= 127.0.0.1
# the demo's three loopback channels (free relay, paid API, local) and the
# directory it runs in: several demos can run side by side
DEMO_PORTS  ?= 18901 18902 18903
DEMO_DIR    ?= $(TOP)/run/demo
NGX_SRC     ?= /usr/share/nginx/src
NGINX       ?= /usr/sbin/nginx
# nginx reads an environment variable NGINX as listening sockets handed
# over by a binary upgrade, and then does not daemonize: `make demo
# NGINX=...` must not put it in the environment of what it starts
unexport NGINX
ECHO_SO     ?= /usr/lib/nginx/modules/ngx_http_echo_module.so

TOP         := $(CURDIR)
# the test and benchmark data: the repository's own (AIROUTER_FIXTURES in
# the unit programs, bench/ and fuzz; TEST_NGINX_FIXTURES in t/*.t)
FIXTURES    ?= $(TOP)/tests/fixtures
BUILD       ?= $(TOP)/build
SANITIZE    ?=
MODULE      := $(BUILD)/ngx_http_airouter_module.so

DEBS := nginx nginx-dev libnginx-mod-http-echo libjansson-dev libyaml-dev \
        zlib1g-dev libhiredis-dev redis-server libssl-dev gcc make pkg-config \
        libtest-base-perl libtext-diff-perl libwww-perl libipc-run-perl \
        libtest-longstring-perl liblist-moreutils-perl libjson-pp-perl \
        dpkg-dev binutils ca-certificates \
        curl openssl libsqlite3-dev libcurl4-openssl-dev sqlite3 \
        $(EXTRA_DEBS)

PURE_SRCS   := $(wildcard src/airouter_*.c)
NGX_SRCS    := ngx_http_airouter_module.c $(wildcard src/ngx_http_airouter_*.c)
HDRS        := $(wildcard src/*.h)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_LIBS   := -ljansson -lyaml -lm

ifeq ($(SANITIZE),1)
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
ASAN_LIB    := $(shell gcc -print-file-name=libasan.so)
endif

CFLAGS_NGX  := $(shell dpkg-buildflags --get CFLAGS 2>/dev/null) -fPIC $(SAN_FLAGS)
LDFLAGS_NGX := $(shell dpkg-buildflags --get LDFLAGS 2>/dev/null) $(SAN_FLAGS)
UNIT_CFLAGS := -std=c99 -O1 -g -Wall -Wextra -Werror -D_DEFAULT_SOURCE \
               -Isrc -Itests/unit $(SAN_FLAGS)

.PHONY: all help deps build unit test test-unit test-t test-asan demo stop \
        bench bench-ab clean fuzz fuzz-bins fuzz-clang callgraph exports test-hup \
        test-valgrind install uninstall deb browser-deps dashboard

all: build

# the comment at the top of this file, up to its first blank line
help:
	@sed -n '1,/^$$/s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

deps:
	@missing=""; \
	for p in $(DEBS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# promtool (Debian: prometheus) checks /metrics in t/801; without it
	@# that check is skipped, saying so, and nothing else needs it
	@command -v promtool >/dev/null 2>&1 \
	    || { echo "installing: prometheus (for promtool)"; \
	         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	             --no-install-recommends prometheus >/dev/null 2>&1 \
	         || echo "promtool: the Debian package prometheus cannot be installed: t/801 skips its promtool checks"; }

# configure is re-run when the list of sources or `config` changes (nginx's
# generated Makefile names every file and library).
$(BUILD)/Makefile: config $(NGX_SRCS) $(PURE_SRCS) $(HDRS)
	@mkdir -p $(BUILD)
	@echo "$(NGX_SRCS) $(PURE_SRCS) $(HDRS) $(SAN_FLAGS) $$(cksum < config)" > $(BUILD)/.srcs.new
	@if ! cmp -s $(BUILD)/.srcs.new $(BUILD)/.srcs || [ ! -f $@ ]; then \
	    cd $(NGX_SRC) && bash -c '. ./conf_flags; ./configure \
	        "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(CFLAGS_NGX)" --with-ld-opt="$(LDFLAGS_NGX)" \
	        --add-dynamic-module=$(TOP) --builddir=$(BUILD)' \
	        > $(BUILD)/configure.log 2>&1 \
	        || { tail -20 $(BUILD)/configure.log; exit 1; }; \
	    mv $(BUILD)/.srcs.new $(BUILD)/.srcs; \
	fi
	@touch $@

$(MODULE): $(BUILD)/Makefile $(NGX_SRCS) $(PURE_SRCS) $(HDRS)
	$(MAKE) -s -f $(BUILD)/Makefile -C $(NGX_SRC) modules

# airouter-import: One-API / New-API / One-Hub channels to router_config.yaml
# (tools/airouter-import; it reads configs with the module's own loader)
IMPORT_DIR  := tools/airouter-import
IMPORT_BIN  := $(BUILD)/airouter-import
IMPORT_LIB  := $(filter-out $(IMPORT_DIR)/airouter_import.c \
                   $(IMPORT_DIR)/airouter_import_sqlite.c \
                   $(IMPORT_DIR)/airouter_import_http.c, \
                   $(wildcard $(IMPORT_DIR)/*.c)) $(PURE_SRCS)
IMPORT_SRCS := $(wildcard $(IMPORT_DIR)/*.c) $(PURE_SRCS)
IMPORT_DEPS := $(IMPORT_SRCS) $(wildcard $(IMPORT_DIR)/*.h) $(HDRS)
IMPORT_CFLAGS := -std=c99 -Wall -Wextra -Werror -D_DEFAULT_SOURCE \
               $(shell dpkg-buildflags --get CPPFLAGS 2>/dev/null) \
               $(shell dpkg-buildflags --get CFLAGS 2>/dev/null) \
               -Isrc -I$(IMPORT_DIR) $(SAN_FLAGS)
IMPORT_LIBS := -lsqlite3 -lcurl -ljansson -lyaml -lm

$(IMPORT_BIN): $(IMPORT_DEPS)
	@mkdir -p $(BUILD)
	$(CC) $(IMPORT_CFLAGS) -o $@ $(IMPORT_SRCS) \
	    $(shell dpkg-buildflags --get LDFLAGS 2>/dev/null) $(IMPORT_LIBS)

build: $(MODULE) $(IMPORT_BIN)

# the pure sources, compiled once for every unit program and fuzz replay
PURE_OBJS   := $(patsubst src/%.c,$(BUILD)/pure/%.o,$(PURE_SRCS))
.PRECIOUS: $(BUILD)/pure/%.o

$(BUILD)/pure/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.c tests/unit/unit.h \
                 $(PURE_OBJS) $(HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< tests/unit/unit.c $(PURE_OBJS) $(UNIT_LIBS)

# the importer's unit test links its pure parts (no SQLite, no HTTP)
$(BUILD)/unit/test_import: tests/unit/test_import.c $(IMPORT_DEPS) \
                           tests/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(IMPORT_DIR) -o $@ $< $(IMPORT_LIB) $(UNIT_LIBS)

unit: $(UNIT_BINS)

# Fuzz targets (tests/fuzz/README.md).  With the standalone driver they
# replay their seed corpus in `make test`; `make fuzz` runs each one in
# random mode under ASan + UBSan for FUZZ_SECONDS; `make fuzz-clang` is
# the same with libFuzzer.  FUZZ_ONLY="sse tags" picks targets.
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_DEPS    := tests/fuzz/driver.c tests/fuzz/util.c tests/fuzz/fuzz.h \
                $(PURE_SRCS) $(HDRS)
FUZZ_BIN_DEPS := tests/fuzz/driver.c tests/fuzz/util.c tests/fuzz/fuzz.h \
                 $(PURE_OBJS) $(HDRS)
FUZZ_SECONDS ?= 60
FUZZ_ONLY    ?= $(FUZZ_NAMES)
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined
FUZZ_OUT     := $(BUILD)/fuzz-out
# fixtures that seed the random runs as they are (never copied)
FUZZ_EXTRA_models_json := $(FIXTURES)/providers \
                          $(FIXTURES)/openrouter-models.json
FUZZ_EXTRA_pricing     := $(FIXTURES)/seed/openrouter_unified.json \
                          $(FIXTURES)/seed/siliconflow_unified.json
FUZZ_EXTRA_config      := $(FIXTURES)/seed/router_config.yaml \
                          $(FIXTURES)/seed/providers.yaml
FUZZ_ENV      = AIROUTER_TIKTOKEN_DIR=$(TIKTOKEN_DIR) \
                ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
                UBSAN_OPTIONS=print_stacktrace=1:abort_on_error=1

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BIN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -Itests/fuzz $(if $(SAN_FLAGS),-DFUZZ_SANITIZED) \
	    -DFUZZ_DEFAULT_CORPUS='"$(TOP)/tests/fuzz/corpus/$*"' -o $@ $< \
	    tests/fuzz/driver.c tests/fuzz/util.c $(PURE_OBJS) $(UNIT_LIBS)

$(BUILD)/fuzz-asan/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SAN_FLAGS),$(UNIT_CFLAGS)) -Itests/fuzz \
	    $(FUZZ_SAN) -DFUZZ_SANITIZED -o $@ $< \
	    tests/fuzz/driver.c tests/fuzz/util.c $(PURE_SRCS) $(UNIT_LIBS)

$(BUILD)/fuzz-clang/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	clang -std=c99 -O1 -g -Wall -Wextra -D_DEFAULT_SOURCE -Isrc \
	    -Itests/fuzz -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -o $@ $< tests/fuzz/util.c \
	    $(PURE_SRCS) $(UNIT_LIBS)

fuzz-bins: $(FUZZ_BINS)

# one target's run: $(1) name; existing fixtures are added as seeds
fuzz_dict     = $(wildcard tests/fuzz/dict/$(1).dict)
fuzz_asan_run = $(FUZZ_ENV) $(BUILD)/fuzz-asan/fuzz_$(1) -t $(FUZZ_SECONDS) \
    $(if $(fuzz_dict),-x $(fuzz_dict)) -a $(FUZZ_OUT) -m 8192 \
    tests/fuzz/corpus/$(1) $(wildcard $(FUZZ_EXTRA_$(1))) || fail=1;
fuzz_clang_run = mkdir -p $(BUILD)/fuzz-clang/corpus/$(1) && \
    $(FUZZ_ENV) $(BUILD)/fuzz-clang/fuzz_$(1) \
    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
    $(if $(fuzz_dict),-dict=$(fuzz_dict)) -artifact_prefix=$(FUZZ_OUT)/ \
    $(BUILD)/fuzz-clang/corpus/$(1) tests/fuzz/corpus/$(1) \
    $(foreach e,$(wildcard $(FUZZ_EXTRA_$(1))),$(if $(wildcard $(e)/.),$(e))) \
    || fail=1;

fuzz: $(patsubst %,$(BUILD)/fuzz-asan/fuzz_%,$(FUZZ_ONLY))
	@mkdir -p $(FUZZ_OUT)
	@fail=0; $(foreach t,$(FUZZ_ONLY),$(call fuzz_asan_run,$(t))) \
	[ $$fail -eq 0 ]

fuzz-clang: $(patsubst %,$(BUILD)/fuzz-clang/fuzz_%,$(FUZZ_ONLY))
	@mkdir -p $(FUZZ_OUT)
	@fail=0; $(foreach t,$(FUZZ_ONLY),$(call fuzz_clang_run,$(t))) \
	[ $$fail -eq 0 ]

# tiktoken's rank files, for the tokenizer's exact-count tests
TIKTOKEN_DIR := $(BUILD)/npm/node_modules/tiktoken/encoders
$(TIKTOKEN_DIR)/o200k_base.json:
	npm install --prefix $(BUILD)/npm --no-save --no-audit --no-fund \
	    --loglevel=error tiktoken@1.0.22

# the official openai SDK for t/160-sdk.t (node_modules is never committed)
SDK_DIR     := tests/sdk
$(SDK_DIR)/node_modules/openai/package.json: $(SDK_DIR)/package.json
	cd $(SDK_DIR) && npm install --no-save --no-package-lock --no-audit \
	    --no-fund --loglevel=error
	@touch $@

# the dashboard's browser test (t/806): Debian's chromium, driven by
# puppeteer-core (tests/browser).  Chromium is big and optional: when it
# cannot be installed, t/806 is skipped and says why.
BROWSER_DIR := tests/browser
$(BROWSER_DIR)/node_modules/puppeteer-core/package.json: $(BROWSER_DIR)/package.json
	cd $(BROWSER_DIR) && npm install --no-save --no-package-lock --no-audit \
	    --no-fund --loglevel=error
	@touch $@

browser-deps: $(BROWSER_DIR)/node_modules/puppeteer-core/package.json
	@command -v chromium >/dev/null 2>&1 || { \
	    echo "installing: chromium (for t/806, the dashboard in a browser)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends chromium \
	    || echo "chromium could not be installed: t/806 will be skipped"; }

# the dashboard page's header, from dashboard/ (committed; t/805 checks it)
dashboard:
	@perl dashboard/gen.pl

# Each unit program prints "name: N passed, M failed"; t/ is run by prove.
# tests/run-all adds both into the closing line.
test: deps build unit fuzz-bins $(TIKTOKEN_DIR)/o200k_base.json \
      $(SDK_DIR)/node_modules/openai/package.json browser-deps
	@AIROUTER_FIXTURES=$(FIXTURES) BUILD=$(BUILD) MODULE=$(MODULE) \
	    AIROUTER_TIKTOKEN_DIR=$(TIKTOKEN_DIR) \
	    ECHO_SO=$(ECHO_SO) NGINX_BIN=$(NGINX) ASAN_LIB=$(ASAN_LIB) \
	    tests/run-all $(T)

test-asan:
	$(MAKE) test SANITIZE=1 BUILD=$(TOP)/build-asan

# every t/ suite with `nginx -s reload` between blocks instead of a stop and
# start, to find state carried wrongly across reloads (t/lib/README.md,
# "HUP mode"); a block marked --- no_hup still gets an nginx of its own
test-hup:
	TEST_NGINX_USE_HUP=1 $(MAKE) test

# every t/ suite with nginx under valgrind's memcheck (t/lib/README.md,
# "Valgrind mode"): a block fails on an invalid access, a use of an
# uninitialised value or a definite leak with an airouter frame; nginx's
# and its libraries' own noise is in tests/valgrind.supp.  The unit
# programs and fuzz replays run as in `make test`.  Slow: run chosen
# suites with T=...; the reports of failed blocks go to $(BUILD)/valgrind
test-valgrind:
	TEST_NGINX_USE_VALGRIND=1 \
	TEST_NGINX_VALGRIND_SUPPRESSIONS=$(TOP)/tests/valgrind.supp \
	TEST_NGINX_VALGRIND_KEEP=$(BUILD)/valgrind $(MAKE) test \
	    EXTRA_DEBS=valgrind

# issue #14's layer check (also one counted test in `make test`)
callgraph:
	@perl tests/callgraph.pl -v

# issue #14's exports check: nothing exported that only its own file uses
# (also one counted test in `make test`)
exports: build
	@perl tests/exports.pl $(BUILD)

demo: deps build
	@PORT=$(PORT) LISTEN=$(LISTEN) DEMO_PORTS="$(DEMO_PORTS)" \
	    DEMO_DIR=$(DEMO_DIR) MODULE=$(MODULE) ECHO_SO=$(ECHO_SO) \
	    NGINX_BIN=$(NGINX) conf.example/run start

stop:
	@DEMO_DIR=$(DEMO_DIR) conf.example/run stop

bench: deps build
	@MODULE=$(MODULE) AIROUTER_FIXTURES=$(FIXTURES) NGINX_BIN=$(NGINX) ECHO_SO=$(ECHO_SO) \
	    bench/run

# before/after: the module at git revision BASE (built in bench/out/ab-src
# from `git archive`) against the work tree's, side by side in one run
# (bench/ab writes bench/AB.md)
AB_SRC := $(TOP)/bench/out/ab-src
bench-ab: deps build
	@test -n "$(BASE)" || { echo "usage: make bench-ab BASE=<git revision>" >&2; exit 2; }
	@rm -rf $(AB_SRC) && mkdir -p $(AB_SRC)
	@git archive "$(BASE)" | tar -x -C $(AB_SRC)
	@$(MAKE) -s --no-print-directory -C $(AB_SRC) $(AB_SRC)/build/ngx_http_airouter_module.so
	@BASE_MODULE=$(AB_SRC)/build/ngx_http_airouter_module.so \
	    BASE_LABEL="$$(git log -1 --format="%h %s" "$(BASE)" | cut -c1-72)" \
	    BUILD_LABEL="$$(git describe --always --dirty)" \
	    MODULE=$(MODULE) AIROUTER_FIXTURES=$(FIXTURES) NGINX_BIN=$(NGINX) \
	    ECHO_SO=$(ECHO_SO) bench/ab

# Installation in Debian's layout (packaging/install.sh says what goes
# where and what uninstall keeps).  PREFIX moves what lives under /usr;
# nginx reads /etc/nginx whatever the prefix.  INSTALL_PROGRAMS lists the
# repository's programs (paths from the top) that go to BIN_DIR, in make
# install and in the package.
PREFIX          ?= /usr
DESTDIR         ?=
MODULE_DIR      ?= $(PREFIX)/lib/nginx/modules
MODCONF_DIR     ?= $(PREFIX)/share/nginx/modules-available
DOC_DIR         ?= $(PREFIX)/share/doc/libnginx-mod-http-airouter
DATA_DIR        ?= $(PREFIX)/share/libnginx-mod-http-airouter
BIN_DIR         ?= $(PREFIX)/bin
NGINX_CONF_DIR  ?= /etc/nginx
CONF_DIR        ?= $(NGINX_CONF_DIR)/airouter
STATE_DIR       ?= /var/lib/airouter
INSTALL_PROGRAMS ?= $(patsubst $(TOP)/%,%,$(IMPORT_BIN))

# the version, written once: AIROUTER_VERSION in src/airouter_config.h
VERSION         := $(shell sed -n 's/^\#define AIROUTER_VERSION  *"\(.*\)"/\1/p' \
                       src/airouter_config.h)
DEB_DIR         ?= $(BUILD)
DEB_WORK        ?= $(BUILD)/deb
DEB_MAINTAINER  ?= airouter maintainers <airouter@localhost>
DEB             := $(DEB_DIR)/libnginx-mod-http-airouter_$(VERSION)_$(shell \
                       dpkg --print-architecture 2>/dev/null).deb

INSTALL_ENV = DESTDIR="$(DESTDIR)" MODULE="$(MODULE)" SRC="$(TOP)" \
    MODULE_DIR="$(MODULE_DIR)" MODCONF_DIR="$(MODCONF_DIR)" \
    DOC_DIR="$(DOC_DIR)" DATA_DIR="$(DATA_DIR)" BIN_DIR="$(BIN_DIR)" \
    NGINX_CONF_DIR="$(NGINX_CONF_DIR)" CONF_DIR="$(CONF_DIR)" \
    STATE_DIR="$(STATE_DIR)" PROGRAMS="$(INSTALL_PROGRAMS)"

install: build
	@$(INSTALL_ENV) packaging/install.sh install

uninstall:
	@$(INSTALL_ENV) packaging/install.sh uninstall

deb: build
	@SRC="$(TOP)" MODULE="$(MODULE)" WORK="$(DEB_WORK)" \
	    DEB_DIR="$(DEB_DIR)" VERSION="$(VERSION)" NGX_SRC="$(NGX_SRC)" \
	    PROGRAMS="$(INSTALL_PROGRAMS)" DEB_MAINTAINER="$(DEB_MAINTAINER)" \
	    packaging/mkdeb.sh

clean:
	rm -rf build build-asan t/servroot
