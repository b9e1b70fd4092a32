package piv

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/signet-dev/signet/internal/errkind"
)

// PIN is a PIN as the caller obtained it.
type PIN struct {
	Value string
	// FromEnv is true when the PIN came from the environment (SIGNET_PIN)
	// rather than from a person at a prompt. With one try left such a PIN
	// is refused, so an unattended job never blocks a card.
	FromEnv bool
}

// PINFunc returns the PIN of the YubiKey with serial. A YubiKey calls it at
// most once, and only when an operation needs the PIN.
type PINFunc func(ctx context.Context, serial uint32) (PIN, error)

// Option configures Open.
type Option func(*options) error

type options struct {
	pin    PINFunc
	notice func(msg string)
}

// WithPIN sets where the PIN comes from. Without it, any operation that
// needs the PIN fails with an errkind.Key error.
func WithPIN(f PINFunc) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("piv.WithPIN: nil PINFunc")
		}
		o.pin = f
		return nil
	}
}

// WithNotice sets where one-line notices go, such as "Touch your YubiKey
// 12345678 to sign targets for registry.example.com/team/app" before a
// signature that needs a touch. Without it, notices are dropped.
func WithNotice(f func(msg string)) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("piv.WithNotice: nil function")
		}
		o.notice = f
		return nil
	}
}

// YubiKey is one open YubiKey, held exclusively until Close. Its methods
// may be called from several goroutines; they run one at a time. It asks
// for the PIN at most once (through WithPIN) and keeps it in memory until
// Close; a PIN the card refused is never sent again.
type YubiKey struct {
	mu      sync.Mutex
	src     cardSource // where the card is looked up again after removal
	serial  uint32
	reader  string
	version Version
	c       card // nil after Close, or after the card was pulled out
	closed  bool
	opts    options

	pin    *PIN  // the PIN obtained from opts.pin, once
	pinErr error // why the PIN can no longer be used (wrong, blocked)
	// verified is set once this YubiKey verified the PIN on the current
	// connection c; a verification the card kept from another process
	// never counts (login).
	verified bool
	// noticed remembers the slots with the cached touch policy whose
	// touch notice was already shown in this command.
	noticed map[Slot]bool
}

// Open opens the YubiKey with the given serial, or the only one attached
// when serial is 0. With several attached and serial 0, it fails with
// ErrSeveralCards (errkind.Input) naming the serials it sees.
func Open(ctx context.Context, serial uint32, opts ...Option) (*YubiKey, error) {
	return open(ctx, pcscSource{}, serial, opts...)
}

// open is Open with the cards of src.
func open(ctx context.Context, src cardSource, serial uint32, opts ...Option) (*YubiKey, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, errkind.Mark(errkind.Input, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, info, err := find(src, serial)
	if err != nil {
		return nil, err
	}
	return &YubiKey{src: src, serial: info.Serial, reader: info.Reader, version: info.Version, c: c, opts: o, noticed: map[Slot]bool{}}, nil
}

// Serial returns the card's serial number.
func (y *YubiKey) Serial() uint32 { return y.serial }

// Version returns the card's firmware version.
func (y *YubiKey) Version() Version { return y.version }

// Reader returns the PC/SC reader the card was found in.
func (y *YubiKey) Reader() string { return y.reader }

// Close releases the card and forgets the PIN. It is safe to call twice.
func (y *YubiKey) Close() error {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.closed = true
	y.pin, y.verified = nil, false
	if y.c == nil {
		return nil
	}
	err := y.c.Close()
	y.c = nil
	if err != nil && !isTransport(err) {
		return keyErr("closing YubiKey %d: %w", y.serial, err)
	}
	return nil
}

// do runs f with the open card, under the lock. When the card was pulled
// out by an earlier call, it is looked up by serial and opened again. When
// f fails because the card went away, the card is dropped so that the next
// call reopens it, and the error is ErrCardRemoved.
func (y *YubiKey) do(ctx context.Context, f func(c card) error) error {
	y.mu.Lock()
	defer y.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if y.closed {
		return keyErr("YubiKey %d is closed", y.serial)
	}
	if y.c == nil {
		c, info, err := find(y.src, y.serial)
		if err != nil {
			if errors.Is(err, ErrNoCard) {
				return y.removedErr(nil)
			}
			return err
		}
		y.c, y.reader, y.verified = c, info.Reader, false
	}
	err := f(y.c)
	if errors.Is(err, ErrCardRemoved) || isTransport(err) {
		y.c.Close()
		y.c, y.verified = nil, false
		if !errors.Is(err, ErrCardRemoved) {
			err = y.removedErr(err)
		}
	}
	return err
}

func (y *YubiKey) notice(format string, args ...any) {
	if y.opts.notice != nil {
		y.opts.notice(fmt.Sprintf(format, args...))
	}
}
