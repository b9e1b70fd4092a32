package main

import (
	"context"
	"fmt"
	"io"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
)

// readInput reads a file named on the command line, at most max bytes: a
// regular file only (internal/localfile: a FIFO is refused, not waited
// on), or standard input for "-", given up when ctx ends (Ctrl-C).
func readInput(ctx context.Context, ios *iostreams, file string, max int64) ([]byte, error) {
	if file != "-" {
		data, err := localfile.Read(file, max)
		return data, errkind.Mark(errkind.Input, err)
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := io.ReadAll(io.LimitReader(ios.In, max+1))
		done <- result{data, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// The read stays blocked; the process is about to exit.
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("reading stdin: %w", r.err))
	}
	if int64(len(r.data)) > max {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("stdin is larger than %d bytes", max))
	}
	return r.data, nil
}
