package pivsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to the control server of a running pivsim (cmd/pivsim
// prints its address; scripts/lib/pcsc.sh exports it as
// SIGNET_TEST_PIVSIM_CTL). Cards are named by serial.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client for the control server at addr
// ("127.0.0.1:PORT" or "http://127.0.0.1:PORT").
func NewClient(addr string) *Client {
	base := strings.TrimRight(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: base, hc: &http.Client{Timeout: 30 * time.Second}}
}

// Cards lists every card of the simulator.
func (c *Client) Cards(ctx context.Context) ([]CardStatus, error) {
	var out []CardStatus
	return out, c.do(ctx, http.MethodGet, "/v1/cards", nil, &out)
}

// Status reports one card.
func (c *Client) Status(ctx context.Context, serial uint32) (CardStatus, error) {
	var out CardStatus
	return out, c.do(ctx, http.MethodGet, cardPath(serial, ""), nil, &out)
}

// Counters returns a card's counters.
func (c *Client) Counters(ctx context.Context, serial uint32) (Counters, error) {
	var out Counters
	return out, c.do(ctx, http.MethodGet, cardPath(serial, "/counters"), nil, &out)
}

// ResetCounters zeroes a card's counters and forgets its cached touch.
func (c *Client) ResetCounters(ctx context.Context, serial uint32) error {
	return c.do(ctx, http.MethodPost, cardPath(serial, "/counters/reset"), nil, nil)
}

// SetTouch changes how a card's button is pressed; zero fields of cfg keep
// their value. It returns the configuration now in force.
func (c *Client) SetTouch(ctx context.Context, serial uint32, cfg TouchConfig) (TouchConfig, error) {
	var out TouchConfig
	return out, c.do(ctx, http.MethodPost, cardPath(serial, "/touch"), cfg, &out)
}

// Press presses a card's button now; it reports whether the card was
// waiting for a touch.
func (c *Client) Press(ctx context.Context, serial uint32) (bool, error) {
	var out struct {
		Accepted bool `json:"accepted"`
	}
	return out.Accepted, c.do(ctx, http.MethodPost, cardPath(serial, "/press"), nil, &out)
}

// KeepPower turns Card.KeepPower on or off: with it on, the card keeps its
// security status from one program to the next however long pcscd waits.
func (c *Client) KeepPower(ctx context.Context, serial uint32, keep bool) error {
	in := struct {
		Keep bool `json:"keep"`
	}{keep}
	return c.do(ctx, http.MethodPost, cardPath(serial, "/power"), in, nil)
}

// FactoryReset restores a card's PIV applet to factory values (PIN 123456,
// PUK 12345678, default management key, no keys or objects), zeroes its
// counters and restores its initial touch configuration. Serial and
// attestation CA stay.
func (c *Client) FactoryReset(ctx context.Context, serial uint32) error {
	return c.do(ctx, http.MethodPost, cardPath(serial, "/factory-reset"), nil, nil)
}

// Remove pulls a card out of its reader.
func (c *Client) Remove(ctx context.Context, serial uint32) error {
	return c.do(ctx, http.MethodPost, cardPath(serial, "/remove"), nil, nil)
}

// Insert puts a card back and returns once vpcd has it again.
func (c *Client) Insert(ctx context.Context, serial uint32) error {
	return c.do(ctx, http.MethodPost, cardPath(serial, "/insert"), nil, nil)
}

// AttestationCAPEM returns a card's test attestation CA certificate.
func (c *Client) AttestationCAPEM(ctx context.Context, serial uint32) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+cardPath(serial, "/ca"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("pivsim control: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("pivsim control: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pivsim control: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func cardPath(serial uint32, suffix string) string {
	return fmt.Sprintf("/v1/cards/%d%s", serial, suffix)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("pivsim control: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("pivsim control: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pivsim control: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("pivsim control: decoding %s: %w", path, err)
	}
	return nil
}
