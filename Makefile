# signet: `make demo` runs the main job on the embedded registry; `make test`
# installs what is missing, starts what the tests need and runs every test;
# `make dist` and `make image` write the release files (docs/install.md).
GO ?= go
BIN := bin
DIST ?= dist
export GO

.PHONY: all build deps test check-cleanup demo bench fuzz dist image clean

all: build

# With the PC/SC headers (installed when missing and possible), signet has
# YubiKey support; without them it is a static build without it.
build:
	BIN=$(BIN) ./scripts/build.sh

# One reproducible archive per target and SHA256SUMS; the cgo target needs
# the build packages of scripts/deps.sh.
dist:
	./scripts/deps.sh build
	$(GO) run ./tools/release/cmd/release dist -out $(DIST)

# The OCI image layout $(DIST)/image from the static Linux builds.
image: dist
	$(GO) run ./tools/release/cmd/release image -dist $(DIST)

deps:
	./scripts/deps.sh

test: deps
	./scripts/test.sh

# SIGTERM to a running scripts/test.sh stops every service it started and
# nothing else (scripts/check-cleanup.sh).
check-cleanup: deps
	./scripts/check-cleanup.sh

demo: build
	./scripts/demo.sh

bench: deps build
	./scripts/bench.sh

# Fuzzes every fuzz target for FUZZTIME each (`make test` runs only their
# seed corpora, as ordinary tests).
FUZZTIME ?= 60s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BIN) $(DIST)
