package pivsim

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeVPCD plays vpcd's side of the protocol on one accepted connection.
type fakeVPCD struct {
	t    *testing.T
	conn net.Conn
}

func (v *fakeVPCD) send(p []byte) {
	v.t.Helper()
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(len(p)))
	// Length and body in two writes, as Debian's vpcd does.
	if _, err := v.conn.Write(hdr[:]); err != nil {
		v.t.Fatal(err)
	}
	if _, err := v.conn.Write(p); err != nil {
		v.t.Fatal(err)
	}
}

func (v *fakeVPCD) recv() []byte {
	v.t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(v.conn, hdr[:]); err != nil {
		v.t.Fatal(err)
	}
	p := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(v.conn, p); err != nil {
		v.t.Fatal(err)
	}
	return p
}

func acceptVPCD(t *testing.T, ln net.Listener) *fakeVPCD {
	t.Helper()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &fakeVPCD{t: t, conn: conn}
}

func TestReaderSpeaksTheVPCDProtocolAndCanBePulledOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	card := newTestCard(t)
	r := NewReader(card, ln.Addr().String(), t.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	v := acceptVPCD(t, ln)
	v.send([]byte{vpcdPowerOn})
	v.send([]byte{vpcdATR})
	if got := v.recv(); !bytes.Equal(got, atr) {
		t.Fatalf("ATR %x", got)
	}
	v.send([]byte{0, 0xa4, 4, 0, 5, 0xa0, 0, 0, 3, 8})
	if got := v.recv(); swOf(got) != swOK {
		t.Fatalf("SELECT answered %x", got)
	}
	v.send([]byte{0, 0xf8, 0, 0, 0})
	if got := v.recv(); !bytes.Equal(got, []byte{0x00, 0xbc, 0x61, 0x4e, 0x90, 0x00}) {
		t.Fatalf("serial answered %x", got)
	}

	srv := httptest.NewServer(NewControlHandler(r))
	defer srv.Close()
	cl := NewClient(srv.URL)
	st, err := cl.Status(ctx, 12345678)
	if err != nil || !st.Connected || !st.Inserted || st.Counters.APDUs != 2 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := cl.Remove(ctx, 12345678); err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	if _, err := v.conn.Read(one[:]); err == nil {
		t.Fatal("connection still open after remove")
	}
	insertErr := make(chan error, 1)
	go func() { insertErr <- cl.Insert(ctx, 12345678) }()
	v2 := acceptVPCD(t, ln)
	if err := <-insertErr; err != nil {
		t.Fatal(err)
	}
	v2.send([]byte{0, 0xfd, 0, 0, 0})
	if got := v2.recv(); !bytes.Equal(got, []byte{5, 4, 3, 0x90, 0}) {
		t.Fatalf("version after reinsert %x", got)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

func TestControlServerSetsTouchResetsCountersAndFactoryResets(t *testing.T) {
	card := newTestCard(t)
	srv := httptest.NewServer(NewControlHandler(NewReader(card, "127.0.0.1:1", nil)))
	defer srv.Close()
	cl := NewClient(srv.URL)
	ctx := context.Background()

	cfg, err := cl.SetTouch(ctx, 12345678, TouchConfig{Mode: TouchNever, Timeout: 10 * time.Millisecond})
	if err != nil || cfg.Mode != TouchNever || cfg.Delay != 50*time.Millisecond {
		t.Fatalf("SetTouch: %+v, %v", cfg, err)
	}
	if _, err := cl.SetTouch(ctx, 12345678, TouchConfig{Mode: "sometimes"}); err == nil {
		t.Error("unknown touch mode accepted")
	}
	authDefault(t, card)
	generate(t, card, 0x9a, algP256, pinNever, touchAlways)
	expectSW(t, card, signCmd(algP256, 0x9a, make([]byte, 32)), swSecurityStatus)
	n, err := cl.Counters(ctx, 12345678)
	if err != nil || n.TouchTimeouts != 1 {
		t.Fatalf("counters %+v, %v", n, err)
	}
	if pressed, err := cl.Press(ctx, 12345678); err != nil || pressed {
		t.Errorf("press with nothing waiting: %v, %v; want false", pressed, err)
	}
	if err := cl.ResetCounters(ctx, 12345678); err != nil {
		t.Fatal(err)
	}
	if n, _ := cl.Counters(ctx, 12345678); n != (Counters{}) {
		t.Errorf("counters after reset %+v", n)
	}
	if err := cl.FactoryReset(ctx, 12345678); err != nil {
		t.Fatal(err)
	}
	if card.TouchConfig().Mode != TouchAuto {
		t.Error("factory reset kept touch mode never")
	}
	expectSW(t, card, []byte{0, 0xf7, 0, 0x9a, 0}, swRefNotFound)
	pemBytes, err := cl.AttestationCAPEM(ctx, 12345678)
	if err != nil || !bytes.Equal(pemBytes, card.AttestationCAPEM()) {
		t.Errorf("CA over the control server differs: %v", err)
	}
	if _, err := cl.Counters(ctx, 999); err == nil {
		t.Error("unknown serial accepted")
	}
	cards, err := cl.Cards(ctx)
	if err != nil || len(cards) != 1 || cards[0].Serial != 12345678 || cards[0].Connected {
		t.Errorf("cards %+v, %v", cards, err)
	}
}

func TestPressSatisfiesAWaitingTouch(t *testing.T) {
	card := newTestCard(t, WithTouch(TouchConfig{Mode: TouchNever, Timeout: time.Minute}))
	authDefault(t, card)
	generate(t, card, 0x9a, algP256, pinNever, touchAlways)
	go func() {
		for !card.Touch() {
			time.Sleep(time.Millisecond)
		}
	}()
	ok(t, card, signCmd(algP256, 0x9a, make([]byte, 32)))
	if n := card.Counters(); n.Touches != 1 || n.Signatures != 1 {
		t.Errorf("counters %+v", n)
	}
}

func TestLockCardsSerializesHolders(t *testing.T) {
	path := t.TempDir() + "/lock"
	ctx := context.Background()
	unlock, err := LockCards(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := LockCards(short, path); err == nil {
		t.Fatal("second holder got the lock")
	}
	unlock()
	unlock2, err := LockCards(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}
