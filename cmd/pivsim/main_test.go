package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCAWritesThePEMOfTheStateFilesCA(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "card.json")
	var out, errOut bytes.Buffer
	if code := run([]string{"ca", "--state", state, "--serial", "4242"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	block, _ := pem.Decode(out.Bytes())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no PEM certificate in %q", out.String())
	}
	var again bytes.Buffer
	run([]string{"ca", "--state", state}, &again, &errOut)
	if !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Error("the CA changed between two runs on one state file")
	}
	var reset bytes.Buffer
	if code := run([]string{"reset", "--state", state}, &reset, &errOut); code != 0 || !strings.Contains(reset.String(), "4242") {
		t.Errorf("reset: exit %d, %q", code, reset.String())
	}
}

func TestBadUsageExits2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--nope"}, {"ca"}, {"ctl", "--addr", "127.0.0.1:1", "counters"}, {"--ctl", "0.0.0.0:0"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}

func TestServeDialsVPCDAndStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln1.Close()
	defer ln2.Close()
	for _, ln := range []net.Listener{ln1, ln2} {
		go func() {
			if c, err := ln.Accept(); err == nil {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
			}
		}()
	}
	dir := t.TempDir()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{
			"--state", filepath.Join(dir, "a.json"), "--serial", "111",
			"--addr", ln1.Addr().String(),
			"--second-state", filepath.Join(dir, "b.json"), "--second-serial", "222",
			"--second-addr", ln2.Addr().String(),
		}, pw, io.Discard)
		pw.Close()
	}()
	var lines []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "pivsim: ready" {
			break
		}
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"card 111 on vpcd", "card 222 on vpcd", "control http://127.0.0.1:", "pivsim: ready"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}
