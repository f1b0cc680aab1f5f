# JOI Energy metering API -- build, test, run.
#
#   make run     install what is missing, build, serve on $(PORT) in the foreground
#   make test    install what is missing, build, run unit and end-to-end tests
#   make start / make stop    the same service in the background
#
# Variables: PORT (5000), WORKERS (16), VAR (./var), REDIS (an existing store,
# host:port or unix:/path, instead of starting one), JOI_AUTH (open or keys),
# PREFIX/DESTDIR for install.

SHELL   := /bin/bash

PORT    ?= 5000
WORKERS ?= 16
VAR     ?= $(CURDIR)/var
REDIS   ?=
# open: meters without credentials are open (the original API); keys: every meter
# needs a write token to store and a read key to read (see README, Privacy and access)
JOI_AUTH ?= open
PREFIX  ?= /usr/local

CC      ?= cc
# The libraries the programs link, found with pkg-config where they ship a .pc
# file (fcgi and CUnit are linked by name).  CPPFLAGS, CFLAGS and LDFLAGS from
# the command line or the environment are added to ours, never replace them;
# WERROR=0 builds without -Werror (a newer compiler's new warning then does not
# stop a user's build; CI and the tests keep it on).
PKGS    := hiredis json-c libcrypto
WERROR  ?= 1
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wwrite-strings
ifeq ($(WERROR),1)
WARN    += -Werror
endif
B       := build
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljson-c -lhiredis -lcrypto)
REAL_CPPFLAGS := -D_DEFAULT_SOURCE -Iinclude -I$(B)/gen $(PKG_CFLAGS) $(CPPFLAGS)
REAL_CFLAGS   := $(WARN) -O2 -g -MMD -MP $(CFLAGS)
REAL_LDFLAGS  := $(LDFLAGS)
LIBS    = $(PKG_LIBS) -lm

LIB_SRC := src/buf.c src/error.c src/num.c src/meter.c src/timeparse.c src/json.c \
           src/readings.c src/batch_scan.c src/config.c src/price.c src/summary.c src/http.c src/token.c src/store.c \
           src/store_mem.c src/store_redis.c src/store_redis_write.c src/store_redis_read.c src/store_redis_summary.c \
           src/store_redis_members.c src/migrate.c src/redis_conn.c src/layout.c src/jsonw.c src/params.c src/response.c \
           src/pricing.c src/handle_health.c src/handle_readings.c src/handle_usage.c \
           src/handle_plans.c src/router.c src/chunk_text.c src/chunk_encode.c src/chunk_decode.c src/auth.c src/metrics.c
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
E2E_SRC  := $(wildcard tests/e2e/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/obj/%.o)
E2E_OBJ  := $(E2E_SRC:%.c=$(B)/obj/%.o)
# Each tests/e2e/*_test.sh runs against a fresh stack of its own, like the CUnit suite.
E2E_SCRIPTS := $(sort $(wildcard tests/e2e/*_test.sh))

.PHONY: all deps build-deps test unit e2e run start stop check-asan leakcheck fuzz format clean install

all: $(B)/joi-worker $(B)/joi-admin

# deps installs everything the tests and `make run` need (the stack, browser,
# proxies, load generator); build-deps only what compiling and the unit tests need.
deps:
	@scripts/deps.sh

build-deps:
	@scripts/deps.sh --build

# The Lua scripts, embedded as C strings.  Only the files that include scripts.h
# depend on it (through their -MMD dependency files); for every other object it is
# order-only, so that it exists before the first build.
$(B)/gen/scripts.h: scripts/embed-lua.sh $(wildcard redis/*.lua)
	@mkdir -p $(@D)
	scripts/embed-lua.sh $@ $(wildcard redis/*.lua)

$(B)/obj/%.o: src/%.c | $(B)/gen/scripts.h
	@mkdir -p $(@D)
	$(CC) $(REAL_CPPFLAGS) $(REAL_CFLAGS) -c -o $@ $<

$(B)/obj/tests/%.o: tests/%.c | $(B)/gen/scripts.h
	@mkdir -p $(@D)
	$(CC) $(REAL_CPPFLAGS) $(REAL_CFLAGS) -c -o $@ $<

$(B)/libjoi.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/joi-worker: $(B)/obj/worker.o $(B)/libjoi.a
	$(CC) $(REAL_CFLAGS) $(REAL_LDFLAGS) -o $@ $^ -lfcgi $(LIBS)

$(B)/joi-admin: $(B)/obj/admin.o $(B)/libjoi.a
	$(CC) $(REAL_CFLAGS) $(REAL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(B)/libjoi.a
	$(CC) $(REAL_CFLAGS) $(REAL_LDFLAGS) -o $@ $^ -lcunit $(LIBS)

$(B)/e2e-tests: $(E2E_OBJ) $(B)/libjoi.a
	$(CC) $(REAL_CFLAGS) $(REAL_LDFLAGS) -o $@ $^ -lcunit -lcurl $(LIBS)

unit: build-deps $(B)/unit-tests
	$(B)/unit-tests

e2e: deps all $(B)/e2e-tests
	JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh $(B)/e2e-tests
	@for t in $(E2E_SCRIPTS); do \
		echo "== $$t"; \
		JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh $$t || exit 1; \
	done

test: deps
	scripts/check-module-map.sh
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) e2e-sharded
	$(MAKE) bench-smoke

# The benchmark (scripts/bench.sh): its own stack on a free port, wrk against each
# endpoint, one table (also in build/bench/last.md).  BENCH_QUICK=1 (from the
# environment or the command line) runs the short version.  It never fails on a
# number.  bench-smoke runs the short version once and checks that every row of
# its table is there with requests served and no errors.
.PHONY: bench bench-smoke
bench: deps all
	JOI_BUILD=$(CURDIR)/$(B) WORKERS=$(WORKERS) scripts/bench.sh

bench-smoke: deps all
	@rm -f $(B)/bench/smoke.md
	-BENCH_QUICK=1 BENCH_OUT=$(CURDIR)/$(B)/bench/smoke.md JOI_BUILD=$(CURDIR)/$(B) WORKERS=$(WORKERS) scripts/bench.sh
	tests/bench/check-table.sh $(B)/bench/smoke.md

# The chunk codec alone (tests/bench/chunk_bench.c): bytes per reading and speed on
# generated data; not part of make test.
.PHONY: chunk-bench
chunk-bench: $(B)/chunk-bench
	$(B)/chunk-bench

$(B)/chunk-bench: tests/bench/chunk_bench.c $(B)/libjoi.a
	$(CC) $(REAL_CPPFLAGS) $(REAL_CFLAGS) $(REAL_LDFLAGS) -o $@ $< $(B)/libjoi.a $(LIBS)

# The end-to-end suite and the garbage test with every worker under valgrind;
# fails on any memory error or definite leak in a worker.
leakcheck: deps all $(B)/e2e-tests
	@scripts/deps.sh valgrind
	rm -rf $(B)/valgrind && mkdir -p $(B)/valgrind
	JOI_REDIS_TIMEOUT_MS=5000 JOI_WORKER_WRAPPER="/usr/bin/valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --log-file=$(CURDIR)/$(B)/valgrind/worker-%p.log" \
		JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh $(B)/e2e-tests
	JOI_REDIS_TIMEOUT_MS=5000 GARBAGE_COUNT=1000 JOI_WORKER_WRAPPER="/usr/bin/valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --log-file=$(CURDIR)/$(B)/valgrind/worker-%p.log" \
		JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh tests/e2e/garbage_test.sh
	@if grep -lE "definitely lost: [1-9]|Invalid (read|write)|uninitialised|Invalid free" $(B)/valgrind/*.log; then \
		cat $(B)/valgrind/*.log; exit 1; fi
	@echo "valgrind: $$(ls $(B)/valgrind | wc -l) worker processes, no errors, no definite leaks"

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer,
# in its own build folder.
check-asan: deps
	$(MAKE) B=build/asan CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		ASAN_OPTIONS=detect_leaks=1 unit e2e

# libFuzzer targets (clang): the request path with the in-memory store, the
# plans-file loader, the Redis store's reply reader fed raw RESP bytes, the chunk
# codec, and the store-body scan held to the full parse.  Each runs
# FUZZ_SECONDS; any crash, leak or timeout fails.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -D_DEFAULT_SOURCE -Iinclude -I$(B)/gen
FUZZ_TARGETS := request config reply chunk batch

$(B)/fuzz-%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(B)/gen/scripts.h
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB_SRC) $(LDFLAGS) $(LIBS)

fuzz:
	@scripts/deps.sh clang libclang-rt-14-dev
	$(MAKE) $(FUZZ_TARGETS:%=$(B)/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/corpus-$$t; \
		echo "fuzz-$$t: $(FUZZ_SECONDS) s"; \
		$(B)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 -artifact_prefix=$(B)/ \
			$(B)/corpus-$$t tests/fuzz/seeds-$$t 2>&1 | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)|ERROR|crash" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

run: deps all
	PORT=$(PORT) WORKERS=$(WORKERS) VAR=$(VAR) REDIS=$(REDIS) JOI_AUTH=$(JOI_AUTH) scripts/joi-service run

start: deps all
	PORT=$(PORT) WORKERS=$(WORKERS) VAR=$(VAR) REDIS=$(REDIS) JOI_AUTH=$(JOI_AUTH) scripts/joi-service start

stop:
	VAR=$(VAR) scripts/joi-service stop
	VAR=$(VAR) scripts/joi-shards stop

# The same service on a sharded store: two Redis shards (redis/shard.conf, files in
# $(VAR)/shard-0 and shard-1) behind twemproxy (redis/nutcracker.yml.in, files in
# $(VAR)/nutcracker.*), all on loopback, started by scripts/joi-shards; make stop
# stops them too.
SHARD_PORTS ?= 6380 6381
PROXY_PORT  ?= 22121
STATS_PORT  ?= 22222
.PHONY: start-sharded e2e-sharded
start-sharded: deps all
	VAR=$(VAR) SHARD_PORTS="$(SHARD_PORTS)" PROXY_PORT=$(PROXY_PORT) STATS_PORT=$(STATS_PORT) scripts/joi-shards start
	PORT=$(PORT) WORKERS=$(WORKERS) VAR=$(VAR) REDIS=127.0.0.1:$(PROXY_PORT) JOI_AUTH=$(JOI_AUTH) scripts/joi-service start

# The CUnit API suite, then tests/e2e/shards_check.sh and keys_test.sh (meter list
# per shard, erasure through the proxy), each against a fresh stack
# whose store is two Redis shards behind twemproxy.
e2e-sharded: deps all $(B)/e2e-tests
	JOI_E2E_SHARDED=1 JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh $(B)/e2e-tests
	JOI_E2E_SHARDED=1 JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh tests/e2e/shards_check.sh
	JOI_E2E_SHARDED=1 JOI_BUILD=$(CURDIR)/$(B) tests/e2e/run.sh tests/e2e/keys_test.sh

format:
	clang-format -i include/joi/*.h src/*.c tests/*/*.c

# The service laid out for a Debian host (README, Install on a Debian server): the
# programs in $(PREFIX)/bin, the page, the default plans (redis/plans.json) and the
# templates under $(PREFIX)/share/joi-energy, and, rendered by scripts/install-conf.sh,
# the lighttpd snippets in /etc/lighttpd/conf-available (lighty-enable-mod joi-energy,
# joi-energy-tls), the Redis instance /etc/redis/redis-joi-energy.conf and its drop-in
# for Debian's redis-server@.service.  The installed service runs JOI_AUTH=keys unless
# JOI_AUTH is given (make install JOI_AUTH=open); TLS_HOST names the certificate's
# folder in /etc/letsencrypt/live.
INSTALL_AUTH := $(if $(filter command line environment,$(origin JOI_AUTH)),$(JOI_AUTH),keys)
TLS_HOST ?= example.org
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/joi-energy
	install -m 755 $(B)/joi-worker $(B)/joi-admin $(DESTDIR)$(PREFIX)/bin/
	cp -r lighttpd redis www $(DESTDIR)$(PREFIX)/share/joi-energy/
	scripts/install-conf.sh "$(DESTDIR)" "$(PREFIX)" "$(INSTALL_AUTH)" "$(WORKERS)" "$(TLS_HOST)"

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
