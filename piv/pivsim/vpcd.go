package pivsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// DefaultVPCDAddr is where vpcd's first slot listens (port 0x8C7B); its
// second slot listens on the next port.
const DefaultVPCDAddr = "127.0.0.1:35963"

// vpcd control bytes.
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdATR      = 0x04
)

// Reader connects a Card to a vpcd slot, as a card sits in a reader: it
// dials vpcd, answers its requests, and dials again when the connection
// drops (pcscd restarted). Remove and Insert simulate pulling the card out
// and putting it back.
type Reader struct {
	card *Card
	addr string
	logf func(format string, args ...any)

	mu        sync.Mutex
	removed   bool
	conn      net.Conn
	connected bool
	changed   chan struct{} // closed and replaced on every state change
}

// NewReader returns a Reader for card at vpcd's addr (host:port). logf
// receives connection events; nil discards them.
func NewReader(card *Card, addr string, logf func(format string, args ...any)) *Reader {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Reader{card: card, addr: addr, logf: logf, changed: make(chan struct{})}
}

// Card returns the card in the reader.
func (r *Reader) Card() *Card { return r.card }

// Addr returns the vpcd address the reader dials.
func (r *Reader) Addr() string { return r.addr }

func (r *Reader) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Remove pulls the card out: the connection to vpcd is closed and not
// dialled again until Insert.
func (r *Reader) Remove() {
	r.mu.Lock()
	r.removed = true
	if r.conn != nil {
		r.conn.Close()
	}
	// A command waiting for a touch fails at once, as on a real key.
	r.card.touch.abortWait()
	r.notifyLocked()
	r.mu.Unlock()
	// Out of the reader the card has no power, whatever KeepPower says.
	r.card.clearSession()
}

// Insert puts the card back after Remove.
func (r *Reader) Insert() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = false
	r.notifyLocked()
}

// Status reports whether the card is inserted and connected to vpcd.
func (r *Reader) Status() (inserted, connected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.removed, r.connected
}

// WaitConnected blocks until the reader is connected to vpcd or ctx ends.
func (r *Reader) WaitConnected(ctx context.Context) error {
	for {
		r.mu.Lock()
		ok, ch := r.connected, r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Run keeps the card in the reader until ctx ends; it returns ctx's error.
func (r *Reader) Run(ctx context.Context) error {
	var d net.Dialer
	backoff := 50 * time.Millisecond
	for {
		r.mu.Lock()
		removed, ch := r.removed, r.changed
		r.mu.Unlock()
		if removed {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		conn, err := d.DialContext(ctx, "tcp", r.addr)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case <-time.After(backoff):
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		r.mu.Lock()
		if r.removed {
			r.mu.Unlock()
			conn.Close()
			continue
		}
		r.conn, r.connected = conn, true
		r.notifyLocked()
		r.mu.Unlock()
		r.logf("card %d connected to vpcd at %s", r.card.Serial(), r.addr)

		stop := context.AfterFunc(ctx, func() { conn.Close() })
		err = r.serve(conn)
		stop()
		conn.Close()
		r.card.PowerOff()

		r.mu.Lock()
		r.conn, r.connected = nil, false
		r.notifyLocked()
		r.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logf("card %d disconnected from vpcd: %v", r.card.Serial(), err)
	}
}

// serve answers vpcd on one connection until it closes.
func (r *Reader) serve(conn net.Conn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Printf("pivsim: card %d: panic: %v", r.card.Serial(), p)
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	var hdr [2]byte
	buf := make([]byte, 0xffff)
	for {
		quickAck(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		quickAck(conn)
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			return err
		}
		var resp []byte
		if n == 1 {
			switch buf[0] {
			case vpcdPowerOff:
				r.card.PowerOff()
			case vpcdPowerOn:
				r.card.PowerOn()
			case vpcdReset:
				r.card.WarmReset()
			case vpcdATR:
				resp = r.card.ATR()
			}
			if resp == nil {
				continue
			}
		} else {
			resp = r.card.Transmit(buf[:n])
		}
		if err := writeFrame(conn, resp); err != nil {
			return err
		}
	}
}

// writeFrame sends a length-prefixed payload in one write.
func writeFrame(w io.Writer, p []byte) error {
	if len(p) > 0xffff {
		return fmt.Errorf("response of %d bytes does not fit a frame", len(p))
	}
	out := make([]byte, 2+len(p))
	binary.BigEndian.PutUint16(out, uint16(len(p)))
	copy(out[2:], p)
	_, err := w.Write(out)
	return err
}
