package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
)

func newTestPrompter(env map[string]string, term terminal, noInput bool) (*prompter, *bytes.Buffer) {
	var errOut bytes.Buffer
	return &prompter{env: mapEnv(env), term: term, errOut: &errOut, noInput: noInput}, &errOut
}

func TestPassphraseComesFromEnvironmentBeforeTerminal(t *testing.T) {
	t.Parallel()
	term := &fakeTerminal{answers: []string{"typed"}}
	p, errOut := newTestPrompter(map[string]string{envPassphrase: "from-env"}, term, false)
	got, err := p.Passphrase()
	if err != nil || string(got) != "from-env" {
		t.Fatalf("Passphrase() = %q, %v; want the environment's value", got, err)
	}
	if term.asked != 0 || errOut.Len() != 0 {
		t.Fatalf("prompted although SIGNET_PASSPHRASE was set: %q", errOut.String())
	}
}

func TestPassphraseIsPromptedOnTerminalWithoutEcho(t *testing.T) {
	t.Parallel()
	term := &fakeTerminal{answers: []string{"typed secret"}}
	p, errOut := newTestPrompter(nil, term, false)
	got, err := p.Passphrase()
	if err != nil || string(got) != "typed secret" {
		t.Fatalf("Passphrase() = %q, %v", got, err)
	}
	if strings.Contains(errOut.String(), "typed secret") {
		t.Fatalf("the prompt echoed the secret: %q", errOut.String())
	}
	if !strings.Contains(errOut.String(), "Passphrase") {
		t.Fatalf("no prompt shown: %q", errOut.String())
	}
}

func TestPassphraseWithoutTerminalOrEnvironmentIsKeyErrorWithHint(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(nil, nil, false)
	_, err := p.Passphrase()
	if errkind.Of(err) != errkind.Key {
		t.Fatalf("kind = %v, want Key (exit 3)", errkind.Of(err))
	}
	want := "passphrase required: set SIGNET_PASSPHRASE or run in a terminal"
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}

func TestNoInputNeverPromptsEvenOnTerminal(t *testing.T) {
	t.Parallel()
	term := &fakeTerminal{answers: []string{"typed"}}
	p, _ := newTestPrompter(nil, term, true)
	if _, err := p.PIN(""); errkind.Of(err) != errkind.Key || !strings.Contains(err.Error(), "SIGNET_PIN") {
		t.Fatalf("PIN() error = %v, want a key error naming SIGNET_PIN", err)
	}
	if term.asked != 0 {
		t.Fatal("prompted with --no-input")
	}
	if _, err := p.Confirm("delete everything? ", "app"); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("Confirm() error = %v, want an input error naming --yes", err)
	}
}

func TestNewPassphraseMustBeTypedTwiceTheSame(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(nil, &fakeTerminal{answers: []string{"one", "two", "one", "two", "one", "two"}}, false)
	if _, err := p.NewPassphrase(false); err == nil || !strings.Contains(err.Error(), "differ") || errkind.Of(err) != errkind.Key {
		t.Fatalf("NewPassphrase() with different answers: err = %v, want 'differ' (exit 3)", err)
	}
	p, _ = newTestPrompter(nil, &fakeTerminal{answers: []string{"same", "same"}}, false)
	if got, err := p.NewPassphrase(false); err != nil || string(got) != "same" {
		t.Fatalf("NewPassphrase() = %q, %v", got, err)
	}
}

func TestEmptyPromptedSecretIsRejected(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(nil, &fakeTerminal{answers: []string{""}}, false)
	if _, err := p.Passphrase(); err == nil || errkind.Of(err) != errkind.Key {
		t.Fatalf("empty passphrase accepted: %v", err)
	}
}

func TestConfirmNeedsTheExactTypedWord(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(nil, &fakeTerminal{answers: []string{"ap"}}, false)
	if ok, err := p.Confirm("forget app? ", "app"); ok || err != nil {
		t.Fatalf("Confirm() with a wrong word = %v, %v; want false, nil", ok, err)
	}
	p, _ = newTestPrompter(nil, &fakeTerminal{answers: []string{"app"}}, false)
	if ok, err := p.Confirm("forget app? ", "app"); !ok || err != nil {
		t.Fatalf("Confirm() = %v, %v; want true", ok, err)
	}
}

func TestKeyPasswdNeverReusesOldPassphraseAsNew(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(map[string]string{envPassphrase: "old"}, nil, false)
	ask := newPassphraseFunc(p)
	ctx := context.Background()
	old, err := ask(ctx, keystore.PassphraseRequest{Purpose: keystore.PurposeUnlockKeystore, Reason: "unlock keystore"})
	if err != nil || string(old) != "old" {
		t.Fatalf("unlock: %q, %v", old, err)
	}
	_, err = ask(ctx, keystore.PassphraseRequest{Purpose: keystore.PurposeNewKeystore, Reason: "new keystore passphrase", Confirm: true})
	if err == nil || !strings.Contains(err.Error(), envNewPassphrase) {
		t.Fatalf("new passphrase after unlock: err = %v, want one naming %s", err, envNewPassphrase)
	}
}

func TestNewKeystoreTakesPassphraseFromEnvironment(t *testing.T) {
	t.Parallel()
	p, _ := newTestPrompter(map[string]string{envPassphrase: "first"}, nil, false)
	got, err := newPassphraseFunc(p)(context.Background(), keystore.PassphraseRequest{Purpose: keystore.PurposeNewKeystore, Reason: "new keystore passphrase", Confirm: true})
	if err != nil || string(got) != "first" {
		t.Fatalf("new keystore passphrase = %q, %v; want SIGNET_PASSPHRASE", got, err)
	}
}

func TestPassphraseVariableIsChosenByPurposeNotWording(t *testing.T) {
	t.Parallel()
	env := map[string]string{envPassphrase: "ks", envExportPassphrase: "bundle"}
	p, _ := newTestPrompter(env, nil, false)
	ask := newPassphraseFunc(p)
	ctx := context.Background()
	for _, tc := range []struct {
		purpose keystore.PassphrasePurpose
		want    string
	}{
		{keystore.PurposeExportBundle, "bundle"},
		{keystore.PurposeUnlockKeystore, "ks"},
		{keystore.PurposeUnlockBundle, "ks"},
		{keystore.PurposeDecryptFile, "ks"},
	} {
		// The wording is the same for every request: only Purpose differs.
		got, err := ask(ctx, keystore.PassphraseRequest{Purpose: tc.purpose, Reason: "encrypt key bundle"})
		if err != nil || string(got) != tc.want {
			t.Errorf("purpose %d: got %q, %v; want %q", tc.purpose, got, err, tc.want)
		}
	}
}

func TestBackgroundUnlockTakesPassphraseFromEnvironmentOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := keystore.PassphraseRequest{Purpose: keystore.PurposeUnlockKeystore, Reason: "unlock keystore", NoPrompt: true}

	term := &fakeTerminal{answers: []string{"typed"}}
	p, errOut := newTestPrompter(map[string]string{envPassphrase: "from-env"}, term, false)
	got, err := newPassphraseFunc(p)(ctx, req)
	if err != nil || string(got) != "from-env" {
		t.Fatalf("NoPrompt with SIGNET_PASSPHRASE = %q, %v; want the environment's value", got, err)
	}

	p, errOut = newTestPrompter(nil, term, false)
	got, err = newPassphraseFunc(p)(ctx, req)
	if !errors.Is(err, keystore.ErrPromptNeeded) || got != nil {
		t.Fatalf("NoPrompt on a terminal without SIGNET_PASSPHRASE = %q, %v; want ErrPromptNeeded", got, err)
	}
	if term.asked != 0 || errOut.Len() != 0 {
		t.Fatalf("prompted for a NoPrompt request: %q", errOut.String())
	}
	_, err = newPassphraseFunc(p)(ctx, keystore.PassphraseRequest{Purpose: keystore.PurposeNewKeystore, Reason: "new keystore passphrase", Confirm: true, NoPrompt: true})
	if !errors.Is(err, keystore.ErrPromptNeeded) || term.asked != 0 {
		t.Fatalf("NoPrompt for a new passphrase: %v (asked %d times); want ErrPromptNeeded and no prompt", err, term.asked)
	}
}

func TestTwoDifferentNewPassphrasesAreAskedForAgainUpToThreeTimes(t *testing.T) {
	t.Parallel()
	term := &fakeTerminal{answers: []string{"one", "two", "three", "four", "same", "same"}}
	p, errOut := newTestPrompter(nil, term, false)
	got, err := p.NewPassphrase(false)
	if err != nil || string(got) != "same" {
		t.Fatalf("NewPassphrase() = %q, %v; want the third, matching pair", got, err)
	}
	if n := strings.Count(errOut.String(), "signet: the two new passphrases differ; try again\n"); n != 2 { // the third pair matched
		t.Fatalf("told %d times to try again, want 2: %q", n, errOut.String())
	}
	term = &fakeTerminal{answers: []string{"a", "b", "c", "d", "e", "f", "never-asked", "never-asked"}}
	p, _ = newTestPrompter(nil, term, false)
	if _, err := p.NewPassphrase(false); err == nil || !strings.Contains(err.Error(), "(3 tries)") {
		t.Fatalf("three mismatches: err = %v, want one naming 3 tries", err)
	}
	if term.asked != 6 {
		t.Fatalf("asked %d times, want 6 (three pairs)", term.asked)
	}
}

func TestAnswerThatCannotBeAPINIsAskedForAgainNeverReturned(t *testing.T) {
	t.Parallel()
	term := &fakeTerminal{answers: []string{"my long keystore passphrase", "12345", "246810"}}
	p, errOut := newTestPrompter(nil, term, false)
	got, err := p.PIN("PIN for YubiKey 1")
	if err != nil || got != "246810" {
		t.Fatalf("PIN() = %q, %v; want the one answer that can be a PIN", got, err)
	}
	if !strings.Contains(errOut.String(), "signet: a PIN has 6 to 8 characters, not 27; try again") {
		t.Fatalf("no retry notice: %q", errOut.String())
	}
	if strings.Contains(errOut.String(), "keystore passphrase") {
		t.Fatalf("the wrong answer was echoed: %q", errOut.String())
	}
	p, _ = newTestPrompter(map[string]string{envPIN: "1234"}, nil, false)
	if _, err := p.PIN(""); errkind.Of(err) != errkind.Key || err.Error() != "SIGNET_PIN: a PIN has 6 to 8 characters, not 4" {
		t.Fatalf("PIN() from a 4-character SIGNET_PIN: err = %v, want a key error naming SIGNET_PIN", err)
	}
}

func TestYesNoConfirmationTakesYAsWellAsYes(t *testing.T) {
	t.Parallel()
	for answer, want := range map[string]bool{"y": true, "Y": true, "yes": true, "YES": true, "n": false, "": false, "yep": false} {
		p, _ := newTestPrompter(nil, &fakeTerminal{answers: []string{answer}}, false)
		got, err := p.Confirm("Revoke? [y/N] ", "yes")
		if err != nil || got != want {
			t.Errorf("Confirm answered %q = %v, %v; want %v", answer, got, err, want)
		}
	}
	p, _ := newTestPrompter(nil, &fakeTerminal{answers: []string{"y"}}, false)
	if ok, _ := p.Confirm("Type 12345678 to go on: ", "12345678"); ok {
		t.Error("y confirmed a typed confirmation of a serial number")
	}
}
