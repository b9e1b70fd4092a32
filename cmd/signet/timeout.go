package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/errkind"
)

// defaultTimeout bounds a whole command unless --timeout or SIGNET_TIMEOUT
// says otherwise (docs/usage.md).
const defaultTimeout = 5 * time.Minute

// noTimeoutAnnotation marks a command that runs until interrupted
// (registry serve): --timeout does not apply to it.
const noTimeoutAnnotation = "signet/no-timeout"

// commandTimeoutError is the cause of a command that ran out of --timeout.
type commandTimeoutError struct{ d time.Duration }

func (e *commandTimeoutError) Error() string {
	return fmt.Sprintf("gave up after %s (--timeout)", e.d)
}

// addTimeoutFlag adds --timeout to the root command.
func addTimeoutFlag(cmd *cobra.Command, f *factory) {
	cmd.PersistentFlags().DurationVar(&f.Global.Timeout, "timeout", defaultTimeout,
		"give up on the command after `DURATION` (env SIGNET_TIMEOUT; 0: no limit)")
}

// applyTimeout bounds cmd's context by --timeout, else SIGNET_TIMEOUT,
// else defaultTimeout. f.close releases it; f.timedOut tells runWith
// whether it expired.
func applyTimeout(cmd *cobra.Command, f *factory) error {
	if cmd.Annotations[noTimeoutAnnotation] != "" {
		return nil
	}
	d := f.Global.Timeout
	if !cmd.Flags().Changed("timeout") {
		if v := f.Env("SIGNET_TIMEOUT"); v != "" {
			var err error
			if d, err = time.ParseDuration(v); err != nil {
				return errkind.Mark(errkind.Input, fmt.Errorf("SIGNET_TIMEOUT: %w", err))
			}
		}
	}
	if d < 0 {
		return errkind.Mark(errkind.Input, fmt.Errorf("--timeout %s is negative", d))
	}
	if d == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(cmd.Context(), d, &commandTimeoutError{d: d})
	cmd.SetContext(ctx)
	f.cancelTimeout = cancel
	f.timedOut = func() error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	return nil
}

// timeoutError turns the error of a command whose --timeout expired into
// a registry/network failure (exit 4) that says so: whatever the command
// was waiting for when the deadline came, the deadline is why it failed.
func timeoutError(f *factory, err error) error {
	if err == nil || f.timedOut == nil {
		return err
	}
	var cause *commandTimeoutError
	if !errors.As(f.timedOut(), &cause) {
		return err // not expired, or interrupted
	}
	msg := err.Error()
	if !strings.Contains(msg, cause.Error()) {
		msg = cause.Error() + ": " + msg
	}
	// A new error: a kind marked below (input, key) must not win over
	// the deadline's.
	return errkind.Mark(errkind.Registry, errors.New(msg))
}
