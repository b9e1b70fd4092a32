package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// fakeTerminal answers prompts from a script of lines.
type fakeTerminal struct {
	answers []string
	asked   int
}

func (t *fakeTerminal) next() (string, error) {
	if t.asked >= len(t.answers) {
		return "", io.EOF
	}
	t.asked++
	return t.answers[t.asked-1], nil
}

func (t *fakeTerminal) ReadSecret() ([]byte, error) {
	s, err := t.next()
	return []byte(s), err
}

func (t *fakeTerminal) ReadLine() (string, error) { return t.next() }

// testIO returns streams over buffers, with term as the terminal (nil: none).
func testIO(term terminal) (*iostreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	ios := &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if term != nil {
		ios.Terminal = term
	}
	return ios, &out, &errOut
}

// mapEnv turns a map into an environment lookup.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// result is what one run of signet did.
type result struct {
	code        int
	out, errOut string
}

// runSignet runs signet in process with env and no terminal.
func runSignet(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runSignetTerm(t, env, nil, args...)
}

// runSignetTerm runs signet in process with env and term as the terminal.
func runSignetTerm(t *testing.T, env map[string]string, term terminal, args ...string) result {
	t.Helper()
	ios, out, errOut := testIO(term)
	code := runWith(context.Background(), args, mapEnv(env), ios)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// execCmd runs one command alone (without the root and its global flags)
// with args, as the flag-parsing tests do through a capturing runF.
func execCmd(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	return cmd.ExecuteContext(context.Background())
}

// newTestFactory returns a factory over buffers with env and no terminal.
func newTestFactory(env map[string]string) (*factory, *bytes.Buffer, *bytes.Buffer) {
	ios, out, errOut := testIO(nil)
	return newFactory(ios, mapEnv(env)), out, errOut
}
