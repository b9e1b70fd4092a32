# signet: `make demo` runs the main job on the embedded registry; `make test`
# installs what is missing, starts what the tests need and runs every test.
GO ?= go
BIN := bin

.PHONY: all build deps test demo bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/signet ./cmd/signet
	$(GO) build -o $(BIN)/pivsim ./cmd/pivsim

deps:
	./scripts/deps.sh

test: deps
	./scripts/test.sh

demo: build
	./scripts/demo.sh

bench: deps build
	./scripts/bench.sh

fuzz:
	./scripts/fuzz.sh 60s

clean:
	rm -rf $(BIN)
