package pivsim

import (
	"fmt"
	"sync"
	"time"
)

// TouchMode says when the simulated user presses the card's button.
type TouchMode string

// Touch modes.
const (
	// TouchAuto presses the button Delay after the card starts waiting.
	TouchAuto TouchMode = "auto"
	// TouchNever never presses it: operations that need a touch fail
	// after Timeout (unless Card.Touch is called while the card waits).
	TouchNever TouchMode = "never"
	// TouchLate presses it only after Timeout, when the card has given up;
	// the press is counted in LateTouches.
	TouchLate TouchMode = "late"
)

// touchCache is how long a touch satisfies keys with the cached policy.
const touchCache = 15 * time.Second

// TouchConfig is how the card's button behaves.
type TouchConfig struct {
	Mode    TouchMode     `json:"mode"`
	Delay   time.Duration `json:"delay"`   // TouchAuto: time until the press
	Timeout time.Duration `json:"timeout"` // how long the card waits for a press
}

// DefaultTouchConfig touches automatically after 50 ms and times out after
// 15 s, like a YubiKey.
func DefaultTouchConfig() TouchConfig {
	return TouchConfig{Mode: TouchAuto, Delay: 50 * time.Millisecond, Timeout: 15 * time.Second}
}

// withDefaults fills the zero fields of c from base and validates.
func (c TouchConfig) withDefaults(base TouchConfig) (TouchConfig, error) {
	if c.Mode == "" {
		c.Mode = base.Mode
	}
	if c.Delay == 0 {
		c.Delay = base.Delay
	}
	if c.Timeout == 0 {
		c.Timeout = base.Timeout
	}
	switch c.Mode {
	case TouchAuto, TouchNever, TouchLate:
	default:
		return TouchConfig{}, fmt.Errorf("unknown touch mode %q (want auto, never or late)", c.Mode)
	}
	if c.Delay < 0 || c.Timeout <= 0 {
		return TouchConfig{}, fmt.Errorf("touch delay and timeout must be positive")
	}
	return c, nil
}

// Counters are what a card counts for tests.
type Counters struct {
	APDUs            int `json:"apdus"`
	Touches          int `json:"touches"`        // presses that satisfied an operation
	TouchTimeouts    int `json:"touch_timeouts"` // operations that failed waiting for a press
	LateTouches      int `json:"late_touches"`   // presses after the card gave up
	Signatures       int `json:"signatures"`     // successful signatures
	KeyAgreements    int `json:"key_agreements"` // successful ECDH operations
	PINVerifications int `json:"pin_verifications"`
	PINFailures      int `json:"pin_failures"` // wrong PIN or PUK entries
}

// toucher holds the button and the counters; it has its own lock so that
// the control server can read counters and press the button while a
// command waits for a touch.
type toucher struct {
	mu        sync.Mutex
	cfg       TouchConfig
	initial   TouchConfig
	counters  Counters
	lastTouch time.Time
	press     chan struct{} // non-nil while the card waits for a press
	abort     chan struct{} // non-nil while the card waits; closed by abortWait
}

func newToucher(cfg TouchConfig) *toucher {
	return &toucher{cfg: cfg, initial: cfg}
}

func (t *toucher) count(f func(*Counters)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.counters)
}

// resetCounters zeroes the counters and forgets the cached touch; with
// config it also restores the touch configuration the card started with.
func (t *toucher) resetCounters(config bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counters = Counters{}
	t.lastTouch = time.Time{}
	if config {
		t.cfg = t.initial
	}
}

// cached reports whether a touch within the cache period satisfies a key
// with the cached touch policy.
func (t *toucher) cached(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.lastTouch.IsZero() && now.Sub(t.lastTouch) < touchCache
}

// wait blocks until the button is pressed or the timeout passes, and
// reports whether it was pressed in time.
func (t *toucher) wait(now func() time.Time) bool {
	t.mu.Lock()
	cfg := t.cfg
	press := make(chan struct{}, 1)
	abort := make(chan struct{})
	t.press, t.abort = press, abort
	t.mu.Unlock()

	var auto <-chan time.Time
	if cfg.Mode == TouchAuto && cfg.Delay < cfg.Timeout {
		tm := time.NewTimer(cfg.Delay)
		defer tm.Stop()
		auto = tm.C
	}
	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	touched := false
	select {
	case <-auto:
		touched = true
	case <-press:
		touched = true
	case <-timeout.C:
	case <-abort:
		// The card left the reader: nobody can touch it any more.
		t.mu.Lock()
		defer t.mu.Unlock()
		t.press, t.abort = nil, nil
		return false
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.press, t.abort = nil, nil
	if touched {
		t.counters.Touches++
		t.lastTouch = now()
		return true
	}
	t.counters.TouchTimeouts++
	if cfg.Mode == TouchLate || (cfg.Mode == TouchAuto && cfg.Delay >= cfg.Timeout) {
		t.counters.LateTouches++
	}
	return false
}

// abortWait ends a wait for a touch at once, untouched: the card was
// pulled out of the reader while it blinked.
func (t *toucher) abortWait() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.abort != nil {
		close(t.abort)
		t.abort = nil
	}
}

// pressNow presses the button; it reports false when the card was not
// waiting for a press (a press then does nothing, as on a YubiKey).
func (t *toucher) pressNow() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.press == nil {
		return false
	}
	select {
	case t.press <- struct{}{}:
	default:
	}
	return true
}

// Counters returns the card's counters.
func (c *Card) Counters() Counters {
	c.touch.mu.Lock()
	defer c.touch.mu.Unlock()
	return c.touch.counters
}

// ResetCounters zeroes the counters and forgets the cached touch.
func (c *Card) ResetCounters() { c.touch.resetCounters(false) }

// TouchConfig returns the current touch configuration.
func (c *Card) TouchConfig() TouchConfig {
	c.touch.mu.Lock()
	defer c.touch.mu.Unlock()
	return c.touch.cfg
}

// SetTouch changes the touch configuration; zero fields keep their value.
func (c *Card) SetTouch(cfg TouchConfig) error {
	c.touch.mu.Lock()
	defer c.touch.mu.Unlock()
	n, err := cfg.withDefaults(c.touch.cfg)
	if err != nil {
		return err
	}
	c.touch.cfg = n
	return nil
}

// Touch presses the button now. It reports whether the card was waiting
// for a touch; a press at any other time does nothing.
func (c *Card) Touch() bool { return c.touch.pressNow() }
