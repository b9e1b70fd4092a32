package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/signet-dev/signet/piv/pivsim"
)

type serveOptions struct {
	state, state2   string
	serial, serial2 uint
	addr, addr2     string
	ctl, ctlFile    string
	firmware        string
	touch           pivsim.TouchConfig
	touchMode       string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o serveOptions
	fs := flag.NewFlagSet("pivsim", flag.ContinueOnError)
	fs.StringVar(&o.state, "state", "", "state file of the first card (default: in memory)")
	fs.UintVar(&o.serial, "serial", 0, "serial of the first card (default: from the state file, or random)")
	fs.StringVar(&o.addr, "addr", pivsim.DefaultVPCDAddr, "vpcd address of the first card")
	fs.StringVar(&o.state2, "second-state", "", "state file of a second card")
	fs.UintVar(&o.serial2, "second-serial", 0, "serial of a second card")
	fs.StringVar(&o.addr2, "second-addr", "", "vpcd address of the second card (default: --addr port + 1)")
	fs.StringVar(&o.ctl, "ctl", "127.0.0.1:0", "loopback address of the control server")
	fs.StringVar(&o.ctlFile, "ctl-file", "", "write the control server address to this file")
	fs.StringVar(&o.firmware, "firmware", "", "firmware version of new cards, e.g. 5.4.3 or 5.7.1 (AES-192 management key)")
	fs.StringVar(&o.touchMode, "touch", "auto", "touch mode: auto, never or late")
	fs.DurationVar(&o.touch.Delay, "touch-delay", 50*time.Millisecond, "auto touch: delay before the press")
	fs.DurationVar(&o.touch.Timeout, "touch-timeout", 15*time.Second, "how long a card waits for a touch")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.touch.Mode = pivsim.TouchMode(o.touchMode)
	second := o.state2 != "" || o.serial2 != 0
	if second && o.addr2 == "" {
		next, err := nextPort(o.addr)
		if err != nil {
			return usageError{err}
		}
		o.addr2 = next
	}
	if err := loopbackOnly(o.ctl); err != nil {
		return usageError{err}
	}

	logger := log.New(stderr, "pivsim: ", 0)
	var readers []*pivsim.Reader
	for _, c := range []struct {
		state  string
		serial uint
		addr   string
		use    bool
	}{{o.state, o.serial, o.addr, true}, {o.state2, o.serial2, o.addr2, second}} {
		if !c.use {
			continue
		}
		card, err := newCard(c.state, c.serial, o)
		if err != nil {
			return err
		}
		readers = append(readers, pivsim.NewReader(card, c.addr, logger.Printf))
		fmt.Fprintf(stdout, "pivsim: card %d on vpcd %s\n", card.Serial(), c.addr)
	}

	ln, err := net.Listen("tcp", o.ctl)
	if err != nil {
		return fmt.Errorf("control server: %w", err)
	}
	srv := &http.Server{Handler: pivsim.NewControlHandler(readers...), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ctlAddr := ln.Addr().String()
	fmt.Fprintf(stdout, "pivsim: control http://%s\n", ctlAddr)
	if o.ctlFile != "" {
		if err := os.WriteFile(o.ctlFile, []byte(ctlAddr+"\n"), 0o600); err != nil {
			return fmt.Errorf("writing control address: %w", err)
		}
	}

	done := make(chan error, len(readers))
	for _, r := range readers {
		go func() { done <- r.Run(ctx) }()
	}
	for _, r := range readers {
		if err := r.WaitConnected(ctx); err != nil {
			break
		}
	}
	if ctx.Err() == nil {
		fmt.Fprintln(stdout, "pivsim: ready")
	}
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	for range readers {
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

func newCard(state string, serial uint, o serveOptions) (*pivsim.Card, error) {
	opts := []pivsim.Option{pivsim.WithTouch(o.touch)}
	if state != "" {
		opts = append(opts, pivsim.WithStateFile(state))
	}
	if serial != 0 {
		if serial > 0xffffffff {
			return nil, usagef("serial %d out of range", serial)
		}
		opts = append(opts, pivsim.WithSerial(uint32(serial)))
	}
	if o.firmware != "" {
		var a, b, c byte
		if _, err := fmt.Sscanf(o.firmware, "%d.%d.%d", &a, &b, &c); err != nil {
			return nil, usagef("bad --firmware %q: want MAJOR.MINOR.PATCH", o.firmware)
		}
		opts = append(opts, pivsim.WithFirmware(a, b, c))
	}
	card, err := pivsim.New(opts...)
	if err != nil {
		return nil, err
	}
	return card, nil
}

func nextPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("bad --addr %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p >= 65535 {
		return "", fmt.Errorf("bad port in --addr %q", addr)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1)), nil
}

func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad --ctl %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--ctl %q: the control server listens on loopback only", addr)
	}
	return nil
}
