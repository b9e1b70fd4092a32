package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// iostreams is where a command reads and writes: data on Out, status and
// errors on ErrOut, secrets and confirmations through Terminal. Commands never
// touch os.Stdin, os.Stdout or os.Stderr directly, so tests drive them with
// buffers and a fake terminal.
type iostreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// OutTTY reports whether Out is a terminal (colour, refusing to print
	// private material onto a screen).
	OutTTY bool
	// ErrTTY reports whether ErrOut is a terminal (progress bars).
	ErrTTY bool

	// Terminal reads answers typed by a person; nil when there is no
	// terminal to prompt on, in which case anything that needs a secret
	// must find it in the environment.
	Terminal terminal
}

// terminal is the person at the keyboard.
type terminal interface {
	// ReadSecret reads one line without echoing it.
	ReadSecret() ([]byte, error)
	// ReadLine reads one line with echo, without its line ending.
	ReadLine() (string, error)
}

// systemIOStreams returns the process's standard streams. Prompts are only
// offered when standard input is a terminal: a pipeline or CI job never
// blocks on a hidden prompt.
func systemIOStreams() *iostreams {
	ios := &iostreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		ios.Terminal = &fdTerminal{fd: fd, r: os.Stdin}
	}
	return ios
}

// fdTerminal reads from a terminal file descriptor. It reads byte by byte,
// as term.ReadPassword does, so that no answer is buffered away from the
// next prompt.
type fdTerminal struct {
	fd int
	r  io.Reader
}

func (t *fdTerminal) ReadSecret() ([]byte, error) {
	b, err := term.ReadPassword(t.fd)
	if err != nil {
		return nil, fmt.Errorf("reading from the terminal: %w", err)
	}
	return b, nil
}

// maxLine bounds a typed line.
const maxLine = 4096

func (t *fdTerminal) ReadLine() (string, error) {
	var line []byte
	var b [1]byte
	for len(line) < maxLine {
		n, err := t.r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", err)
		}
	}
	return strings.TrimRight(string(line), "\r"), nil
}
