package main

import (
	"context"
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
// blocks on a hidden prompt. A prompt is abandoned, and the terminal
// restored, when interrupted is closed (SIGINT at a no-echo prompt).
func systemIOStreams(interrupted <-chan struct{}) *iostreams {
	ios := &iostreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		ios.Terminal = &fdTerminal{fd: fd, r: os.Stdin, interrupted: interrupted}
	}
	return ios
}

// fdTerminal reads from a terminal file descriptor. It reads byte by byte,
// as term.ReadPassword does, so that no answer is buffered away from the
// next prompt.
type fdTerminal struct {
	fd          int
	r           io.Reader
	interrupted <-chan struct{}
}

func (t *fdTerminal) ReadSecret() ([]byte, error) {
	state, _ := term.GetState(t.fd)
	b, err := t.interruptible(func() ([]byte, error) { return term.ReadPassword(t.fd) })
	if errors.Is(err, context.Canceled) && state != nil {
		// ReadPassword is still blocked with echo off: put echo back.
		_ = term.Restore(t.fd, state)
	}
	if err != nil {
		return nil, fmt.Errorf("reading from the terminal: %w", err)
	}
	return b, nil
}

// interruptible runs read, giving up with context.Canceled when the command
// is interrupted; the read itself is left blocked, as the process is about
// to exit.
func (t *fdTerminal) interruptible(read func() ([]byte, error)) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := read()
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-t.interrupted:
		return nil, context.Canceled
	}
}

// maxLine bounds a typed line.
const maxLine = 4096

func (t *fdTerminal) ReadLine() (string, error) {
	b, err := t.interruptible(t.readLine)
	return string(b), err
}

func (t *fdTerminal) readLine() ([]byte, error) {
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
			return nil, fmt.Errorf("reading from the terminal: %w", err)
		}
	}
	return []byte(strings.TrimRight(string(line), "\r")), nil
}
