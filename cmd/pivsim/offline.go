package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/signet-dev/signet/piv/pivsim"
)

// runCA writes the attestation CA of a state file (made when missing).
func runCA(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pivsim ca", flag.ContinueOnError)
	state := fs.String("state", "", "state file of the card (created when missing)")
	serial := fs.Uint("serial", 0, "serial of the card when the state file is created")
	out := fs.String("out", "", "write the PEM here instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *state == "" {
		return usagef("ca needs --state FILE")
	}
	card, err := newCard(*state, *serial, serveOptions{touch: pivsim.DefaultTouchConfig()})
	if err != nil {
		return err
	}
	pem := card.AttestationCAPEM()
	if *out == "" {
		_, err := stdout.Write(pem)
		return err
	}
	return os.WriteFile(*out, pem, 0o644)
}

// runReset factory-resets the card of a state file while no pivsim runs it.
func runReset(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pivsim reset", flag.ContinueOnError)
	state := fs.String("state", "", "state file of the card")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *state == "" {
		return usagef("reset needs --state FILE")
	}
	if _, err := os.Stat(*state); err != nil {
		return err
	}
	card, err := pivsim.New(pivsim.WithStateFile(*state))
	if err != nil {
		return err
	}
	if err := card.FactoryReset(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pivsim: card %d reset to factory values\n", card.Serial())
	return nil
}

// runCtl drives a running pivsim through its control server.
func runCtl(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pivsim ctl", flag.ContinueOnError)
	addr := fs.String("addr", os.Getenv("SIGNET_TEST_PIVSIM_CTL"), "control server address (default $SIGNET_TEST_PIVSIM_CTL)")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() == 0 {
		return usagef("ctl needs a command: cards, status, counters, reset-counters, touch, press, factory-reset, remove, insert, ca")
	}
	if *addr == "" {
		return usagef("ctl needs --addr or SIGNET_TEST_PIVSIM_CTL")
	}
	cmd := fs.Arg(0)
	sub := flag.NewFlagSet("pivsim ctl "+cmd, flag.ContinueOnError)
	serial := sub.Uint("serial", 0, "serial of the card")
	mode := sub.String("mode", "", "touch: auto, never or late")
	delay := sub.Duration("delay", 0, "touch: auto touch delay")
	timeout := sub.Duration("timeout", 0, "touch: touch timeout")
	if err := parse(sub, fs.Args()[1:]); err != nil {
		return err
	}
	c := pivsim.NewClient(*addr)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if cmd == "cards" {
		cards, err := c.Cards(ctx)
		if err != nil {
			return err
		}
		return printJSON(stdout, cards)
	}
	if *serial == 0 || *serial > 0xffffffff {
		return usagef("ctl %s needs --serial N", cmd)
	}
	s := uint32(*serial)
	var v any
	var err error
	switch cmd {
	case "status":
		v, err = c.Status(ctx, s)
	case "counters":
		v, err = c.Counters(ctx, s)
	case "reset-counters":
		err = c.ResetCounters(ctx, s)
	case "touch":
		v, err = c.SetTouch(ctx, s, pivsim.TouchConfig{Mode: pivsim.TouchMode(*mode), Delay: *delay, Timeout: *timeout})
	case "press":
		v, err = c.Press(ctx, s)
	case "factory-reset":
		err = c.FactoryReset(ctx, s)
	case "remove":
		err = c.Remove(ctx, s)
	case "insert":
		err = c.Insert(ctx, s)
	case "ca":
		var pem []byte
		if pem, err = c.AttestationCAPEM(ctx, s); err == nil {
			_, err = stdout.Write(pem)
		}
		return err
	default:
		return usagef("unknown ctl command %q", cmd)
	}
	if err != nil || v == nil {
		return err
	}
	return printJSON(stdout, v)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
