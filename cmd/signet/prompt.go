package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

// Environment variables that carry secrets (docs/design.md §5). A secret is never
// taken from a flag value.
const (
	envPassphrase       = "SIGNET_PASSPHRASE"        // keystore passphrase
	envNewPassphrase    = "SIGNET_NEW_PASSPHRASE"    // new keystore passphrase (key passwd, first key)
	envImportPassphrase = "SIGNET_IMPORT_PASSPHRASE" // passphrase of an encrypted PEM being imported
	envExportPassphrase = "SIGNET_EXPORT_PASSPHRASE" // passphrase of a private key bundle being exported
	envPIN              = "SIGNET_PIN"               // YubiKey PIN
	envPUK              = "SIGNET_PUK"               // YubiKey PUK
)

// Prompter is the one interface through which signet asks a person for
// anything: secrets, typed confirmations, and notices such as "touch your
// YubiKey". Each secret is taken from its environment variable first; a
// prompt is only shown on a terminal and never with --no-input. Libraries
// never prompt: cmd/signet passes them what a Prompter returned.
type Prompter interface {
	// Secret returns the secret s describes, from the environment or a
	// no-echo prompt.
	Secret(s secretSpec) ([]byte, error)
	// Passphrase returns the keystore passphrase (SIGNET_PASSPHRASE).
	Passphrase() ([]byte, error)
	// NewPassphrase returns a new keystore passphrase, asked twice
	// (SIGNET_NEW_PASSPHRASE, or SIGNET_PASSPHRASE when newEnvOnly is false).
	NewPassphrase(newEnvOnly bool) ([]byte, error)
	// PIN returns a YubiKey PIN (SIGNET_PIN); prompt names the card, for
	// example "PIN for YubiKey 12345678".
	PIN(prompt string) (string, error)
	// Confirm shows prompt (which should say what to type) and reports
	// whether the person typed want. Without a terminal, or with
	// --no-input, it fails with an errkind.Input error that tells them to
	// pass --yes.
	Confirm(prompt, want string) (bool, error)
	// Notice prints one status line on stderr, for example "touch your
	// YubiKey".
	Notice(format string, args ...any)
}

// secretSpec describes one secret a command needs.
type secretSpec struct {
	Env     string // environment variable consulted first; "" for none
	What    string // what it is, in errors: "passphrase", "PIN"
	Prompt  string // shown on the terminal, without ": "
	Confirm bool   // a new secret: ask twice and require the same answer
	// NoPrompt: only the environment may answer; without it the answer
	// is an error wrapping keystore.ErrPromptNeeded, never a prompt.
	NoPrompt bool
	// Check, when set, refuses an answer that cannot be right (a PIN of
	// the wrong length) before anyone uses it: a typed answer is asked
	// for again, a value from the environment is an errkind.Key error.
	Check func([]byte) error
}

// prompter implements Prompter over the environment and a terminal.
type prompter struct {
	env     func(string) string
	term    terminal // nil: no terminal
	errOut  io.Writer
	noInput bool
}

var _ Prompter = (*prompter)(nil)

func (p *prompter) Secret(s secretSpec) ([]byte, error) {
	if s.Env != "" {
		if v := p.env(s.Env); v != "" {
			if s.Check != nil {
				if err := s.Check([]byte(v)); err != nil {
					return nil, errkind.Mark(errkind.Key, fmt.Errorf("%s: %w", s.Env, err))
				}
			}
			return []byte(v), nil
		}
	}
	if s.NoPrompt {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("%s not in the environment: %w", s.What, keystore.ErrPromptNeeded))
	}
	if p.term == nil || p.noInput {
		hint := "run in a terminal"
		if s.Env != "" {
			hint = "set " + s.Env + " or run in a terminal"
		}
		if p.noInput {
			hint += " without --no-input"
		}
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("%s required: %s", s.What, hint))
	}
	for try := 1; ; try++ {
		v, err := p.askSecret(s)
		if err == nil {
			return v, nil
		}
		var retry *retryableError
		if !errors.As(err, &retry) {
			return nil, err
		}
		if try == maxSecretTries {
			return nil, errkind.Mark(errkind.Key, fmt.Errorf("%v (%d tries)", retry.err, maxSecretTries))
		}
		fprintf(p.errOut, "signet: %v; try again\n", retry.err)
	}
}

// maxSecretTries is how many times a typed secret that cannot be right
// (a mistyped confirmation, a PIN of the wrong length) is asked for, as
// ykman does.
const maxSecretTries = 3

// retryableError is a typed answer worth asking for again.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }

// askSecret reads one answer (twice for a new secret) from the terminal.
func (p *prompter) askSecret(s secretSpec) ([]byte, error) {
	fprintf(p.errOut, "%s: ", s.Prompt)
	v, err := p.term.ReadSecret()
	fmt.Fprintln(p.errOut)
	if err != nil {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("reading %s: %w", s.What, err))
	}
	if len(v) == 0 {
		return nil, errkind.Mark(errkind.Key, fmt.Errorf("empty %s", s.What))
	}
	if s.Check != nil {
		if err := s.Check(v); err != nil {
			return nil, &retryableError{err}
		}
	}
	if s.Confirm {
		fprintf(p.errOut, "%s (again): ", s.Prompt)
		again, err := p.term.ReadSecret()
		fmt.Fprintln(p.errOut)
		if err != nil {
			return nil, errkind.Mark(errkind.Key, fmt.Errorf("reading %s: %w", s.What, err))
		}
		if !bytes.Equal(v, again) {
			return nil, &retryableError{fmt.Errorf("the two %ss differ", s.What)}
		}
	}
	return v, nil
}

// checkPIN refuses what cannot be a YubiKey PIN or PUK (6 to 8 printable
// ASCII characters), so that a passphrase typed at a PIN prompt never
// reaches the card and never costs a try.
func checkPIN(what string) func([]byte) error {
	return func(v []byte) error {
		if len(v) < 6 || len(v) > 8 {
			return fmt.Errorf("a %s has 6 to 8 characters, not %d", what, len(v))
		}
		for _, c := range v {
			if c < 0x21 || c > 0x7e {
				return fmt.Errorf("a %s has only printable ASCII characters", what)
			}
		}
		return nil
	}
}

func (p *prompter) Passphrase() ([]byte, error) {
	return p.Secret(secretSpec{Env: envPassphrase, What: "passphrase", Prompt: "Passphrase for the signet keystore"})
}

func (p *prompter) NewPassphrase(newEnvOnly bool) ([]byte, error) {
	if v := p.env(envNewPassphrase); v != "" {
		return []byte(v), nil
	}
	env := envNewPassphrase
	if !newEnvOnly {
		env = envPassphrase
	}
	return p.Secret(secretSpec{Env: env, What: "new passphrase", Prompt: "New passphrase for the signet keystore", Confirm: true})
}

func (p *prompter) PIN(prompt string) (string, error) {
	if prompt == "" {
		prompt = "YubiKey PIN"
	}
	v, err := p.Secret(secretSpec{Env: envPIN, What: "PIN", Prompt: prompt, Check: checkPIN("PIN")})
	return string(v), err
}

func (p *prompter) Confirm(prompt, want string) (bool, error) {
	if p.term == nil || p.noInput {
		return false, errkind.Mark(errkind.Input, errors.New("confirmation required: pass --yes or run in a terminal"))
	}
	fprintf(p.errOut, "%s", prompt)
	got, err := p.term.ReadLine()
	if err != nil {
		return false, errkind.Mark(errkind.Input, fmt.Errorf("reading confirmation: %w", err))
	}
	got = strings.TrimSpace(got)
	if want == "yes" {
		// A yes/no question: y answers it as well as yes.
		return strings.EqualFold(got, "yes") || strings.EqualFold(got, "y"), nil
	}
	return got == want, nil
}

func (p *prompter) Notice(format string, args ...any) {
	fprintf(p.errOut, "signet: "+format+"\n", args...)
}
