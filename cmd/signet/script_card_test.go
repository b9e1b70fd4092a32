package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/piv/pivsim"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

// cmdCard drives the virtual YubiKeys of scripts/test.sh from a script
// (condition [pcsc]); CARD is 1 or 2, the first or second card:
//
//	card lock                      take the cards for this script, re-insert
//	                               and factory-reset both (first line of a script)
//	card touch CARD MODE [DELAY]   auto | never | late, auto after DELAY
//	card counters CARD             print the card's counters as JSON on stdout
//	card reset-counters CARD
//	card remove CARD | insert CARD pull the card out, put it back
//	card keep-power CARD on|off    the card ignores pcscd's power-off, so it
//	                               keeps a verified PIN from one command to
//	                               the next (pivsim.Card.KeepPower)
//	card forget CARD               factory-reset: a "lost" card replaced by a blank one
func cmdCard(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: card lock | touch CARD MODE [DELAY] | counters CARD | reset-counters CARD | remove CARD | insert CARD | keep-power CARD on|off | forget CARD")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := pivsim.NewClient(os.Getenv("SIGNET_TEST_PIVSIM_CTL"))
	if args[0] == "lock" {
		unlock, err := pivsim.LockCards(ctx, os.Getenv(pivsim.LockEnv))
		ts.Check(err)
		ts.Defer(unlock)
		for _, n := range []string{"1", "2"} {
			s := cardSerial(ts, n)
			ts.Check(client.Insert(ctx, s))
			ts.Check(client.FactoryReset(ctx, s))
			waitCardReader(ts, n, true)
		}
		return
	}
	if len(args) < 2 {
		ts.Fatalf("card %s: which card (1 or 2)?", args[0])
	}
	serial := cardSerial(ts, args[1])
	switch args[0] {
	case "touch":
		if len(args) < 3 {
			ts.Fatalf("usage: card touch CARD auto|never|late [DELAY]")
		}
		cfg := pivsim.TouchConfig{Mode: pivsim.TouchMode(args[2])}
		if len(args) > 3 {
			d, err := time.ParseDuration(args[3])
			ts.Check(err)
			cfg.Delay = d
		}
		_, err := client.SetTouch(ctx, serial, cfg)
		ts.Check(err)
	case "counters":
		c, err := client.Counters(ctx, serial)
		ts.Check(err)
		b, err := json.Marshal(c)
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s\n", b)
	case "reset-counters":
		ts.Check(client.ResetCounters(ctx, serial))
	case "remove":
		ts.Check(client.Remove(ctx, serial))
		waitCardReader(ts, args[1], false)
	case "insert":
		ts.Check(client.Insert(ctx, serial))
		waitCardReader(ts, args[1], true)
	case "keep-power":
		if len(args) != 3 || (args[2] != "on" && args[2] != "off") {
			ts.Fatalf("usage: card keep-power CARD on|off")
		}
		ts.Check(client.KeepPower(ctx, serial, args[2] == "on"))
	case "forget":
		ts.Check(client.FactoryReset(ctx, serial))
	default:
		ts.Fatalf("card: unknown subcommand %q", args[0])
	}
}

func cardSerial(ts *testscript.TestScript, n string) uint32 {
	name := "SIGNET_TEST_PIVSIM_SERIAL"
	if n == "2" {
		name = "SIGNET_TEST_PIVSIM_SERIAL2"
	} else if n != "1" {
		ts.Fatalf("card %q: want 1 or 2", n)
	}
	s, err := strconv.ParseUint(os.Getenv(name), 10, 32)
	if err != nil {
		ts.Fatalf("%s: %v", name, err)
	}
	return uint32(s)
}

// waitCardReader waits until pcscd sees card n present (or absent), so that
// no open races the reader's state change.
func waitCardReader(ts *testscript.TestScript, n string, present bool) {
	reader := os.Getenv("SIGNET_TEST_PIVSIM_READER")
	if n == "2" {
		reader = os.Getenv("SIGNET_TEST_PIVSIM_READER2")
	}
	ts.Check(pivsimtest.WaitReader(context.Background(), reader, present))
}

// cmdSleep waits, so a script can act while a background command runs:
//
//	sleep DURATION
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
