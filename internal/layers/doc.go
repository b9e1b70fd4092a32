// Package layers holds no code: its test reads the module's import graph
// with `go list` and fails, naming each offending import, when a package
// imports across the layers docs/design.md §4 draws (internal/app or cmd/
// from below, the TUF writer from its verifier, the registry server from
// its client, test helpers or developer tools from the product).
package layers
