# airouter: build, test and demo against Debian's nginx.
#
#   make deps       install what is missing from Debian (no-op when present)
#   make            build build/ngx_http_airouter_module.so
#   make test       unit tests + Test::Nginx suites, one summary line at the end
#   make test-asan  the same with AddressSanitizer + UBSan
#   make demo       start nginx with conf.example/ on 127.0.0.1:$(PORT)
#   make stop       stop the demo
#   make bench      benchmarks (see bench/README.md)

PORT        ?= 8080
LISTEN      ?= 127.0.0.1
NGX_SRC     ?= /usr/share/nginx/src
NGINX       ?= /usr/sbin/nginx
SHARED      ?= $(abspath $(CURDIR)/../shared)
ECHO_SO     ?= /usr/lib/nginx/modules/ngx_http_echo_module.so

TOP         := $(CURDIR)
BUILD       ?= $(TOP)/build
SANITIZE    ?=
MODULE      := $(BUILD)/ngx_http_airouter_module.so

DEBS := nginx nginx-dev libnginx-mod-http-echo libjansson-dev libyaml-dev \
        libhiredis-dev redis-server libssl-dev gcc make pkg-config \
        libtest-base-perl libtext-diff-perl libwww-perl libipc-run-perl \
        libtest-longstring-perl liblist-moreutils-perl libjson-pp-perl \
        curl openssl

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

.PHONY: all deps build unit test test-unit test-t test-asan demo stop \
        bench clean

all: build

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

# configure is re-run when the list of sources changes (nginx's generated
# Makefile names every file).
$(BUILD)/Makefile: config $(NGX_SRCS) $(PURE_SRCS) $(HDRS)
	@mkdir -p $(BUILD)
	@echo "$(NGX_SRCS) $(PURE_SRCS) $(HDRS) $(SAN_FLAGS)" > $(BUILD)/.srcs.new
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

build: $(MODULE)

$(BUILD)/unit/%: tests/unit/%.c $(PURE_SRCS) $(HDRS) tests/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(PURE_SRCS) $(UNIT_LIBS)

unit: $(UNIT_BINS)

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

# Each unit program prints "name: N passed, M failed"; t/ is run by prove.
# tests/run-all adds both into the closing line.
test: deps build unit $(TIKTOKEN_DIR)/o200k_base.json \
      $(SDK_DIR)/node_modules/openai/package.json
	@AIROUTER_SHARED=$(SHARED) BUILD=$(BUILD) MODULE=$(MODULE) \
	    AIROUTER_TIKTOKEN_DIR=$(TIKTOKEN_DIR) \
	    ECHO_SO=$(ECHO_SO) NGINX_BIN=$(NGINX) ASAN_LIB=$(ASAN_LIB) \
	    tests/run-all $(T)

test-asan:
	$(MAKE) test SANITIZE=1 BUILD=$(TOP)/build-asan

demo: deps build
	@PORT=$(PORT) LISTEN=$(LISTEN) MODULE=$(MODULE) ECHO_SO=$(ECHO_SO) NGINX_BIN=$(NGINX) \
	    conf.example/run start

stop:
	@conf.example/run stop

bench: deps build
	@MODULE=$(MODULE) SHARED=$(SHARED) NGINX_BIN=$(NGINX) ECHO_SO=$(ECHO_SO) \
	    bench/run

clean:
	rm -rf build build-asan t/servroot
