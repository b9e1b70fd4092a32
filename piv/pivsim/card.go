package pivsim

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ATR is the answer to reset of a YubiKey 5 (NFC); it offers T=1, which
// piv-go insists on.
var atr = []byte{
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0,
	0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79, 0x40,
}

// FormFactorUSBAKeychain is the form factor a Card reports by default.
const FormFactorUSBAKeychain = 0x01

// Card is one virtual YubiKey. It is safe for concurrent use; commands are
// processed one at a time, as by a real card.
type Card struct {
	path   string
	now    func() time.Time
	touch  *toucher
	serial uint32 // fixed for the card's life; read without mu

	mu        sync.Mutex
	st        *state
	sess      session
	keepPower bool // ignore the reader's power-off and power-on (KeepPower)
}

// session is what a card forgets on power off and reset.
type session struct {
	app         byte // appPIV or appMgmt; PIV is selected at power on
	pinVerified bool
	pinFresh    bool // verified by the previous command (PIN policy always)
	mgmtAuth    bool
	witness     []byte // management key auth: plain witness the host must return
	challenge   []byte // management key auth: challenge the host must encrypt
	chainHdr    [3]byte
	chain       []byte
	chaining    bool
	pending     []byte // response data not yet fetched with GET RESPONSE
}

const (
	appPIV  = 1
	appMgmt = 2
)

type options struct {
	serial     uint32
	firmware   [3]byte
	fwSet      bool
	formFactor byte
	statePath  string
	touch      TouchConfig
	now        func() time.Time
}

// Option configures New.
type Option func(*options) error

// WithSerial sets the serial of a new card (default: random eight digits).
// A state file that already holds another serial is an error.
func WithSerial(serial uint32) Option {
	return func(o *options) error {
		if serial == 0 {
			return errors.New("serial must not be zero")
		}
		o.serial = serial
		return nil
	}
}

// WithFirmware sets the firmware version a new card reports (default
// 5.4.3). From 5.7.0 the default management key is AES-192, before it is
// 3DES. Versions before 5.3.0 are rejected: the card implements the
// metadata command that 5.3 introduced.
func WithFirmware(major, minor, patch byte) Option {
	return func(o *options) error {
		if major < 5 || (major == 5 && minor < 3) {
			return fmt.Errorf("firmware %d.%d.%d is older than 5.3.0", major, minor, patch)
		}
		o.firmware = [3]byte{major, minor, patch}
		o.fwSet = true
		return nil
	}
}

// WithFormFactor sets the form factor byte of a new card (default
// FormFactorUSBAKeychain).
func WithFormFactor(ff byte) Option {
	return func(o *options) error { o.formFactor = ff; return nil }
}

// WithStateFile keeps the card's state in path: loaded when it exists,
// created otherwise, and rewritten atomically after every change. Without
// it the card lives in memory only.
func WithStateFile(path string) Option {
	return func(o *options) error { o.statePath = path; return nil }
}

// WithTouch sets how the card's button is pressed (default: automatically
// after 50 ms, with a 15 s timeout like a YubiKey).
func WithTouch(cfg TouchConfig) Option {
	return func(o *options) error {
		c, err := cfg.withDefaults(o.touch)
		if err != nil {
			return err
		}
		o.touch = c
		return nil
	}
}

// WithClock sets the clock used for the 15 s touch cache (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	}
}

// New makes a card, loading its state file when one is given and exists.
func New(opts ...Option) (*Card, error) {
	o := options{
		firmware:   [3]byte{5, 4, 3},
		formFactor: FormFactorUSBAKeychain,
		touch:      DefaultTouchConfig(),
		now:        time.Now,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var st *state
	if o.statePath != "" {
		loaded, err := loadState(o.statePath)
		switch {
		case err == nil:
			if o.serial != 0 && loaded.Serial != o.serial {
				return nil, fmt.Errorf("state file %s holds card %d, not %d", o.statePath, loaded.Serial, o.serial)
			}
			if o.fwSet && loaded.Firmware != o.firmware {
				return nil, fmt.Errorf("state file %s holds firmware %d.%d.%d", o.statePath, loaded.Firmware[0], loaded.Firmware[1], loaded.Firmware[2])
			}
			st = loaded
		case !isNotExist(err):
			return nil, fmt.Errorf("loading card state: %w", err)
		}
	}
	if st == nil {
		serial := o.serial
		if serial == 0 {
			serial = randomSerial()
		}
		var err error
		if st, err = newState(serial, o.firmware, o.formFactor); err != nil {
			return nil, fmt.Errorf("making card state: %w", err)
		}
		if o.statePath != "" {
			if err := saveState(o.statePath, st); err != nil {
				return nil, err
			}
		}
	}
	c := &Card{path: o.statePath, now: o.now, touch: newToucher(o.touch), st: st, serial: st.Serial}
	c.sess = session{app: appPIV}
	return c, nil
}

// ATR returns the card's answer to reset.
func (c *Card) ATR() []byte { return bytes.Clone(atr) }

// Serial returns the card's serial number.
// It does not wait for a command in progress (one waiting for a touch).
func (c *Card) Serial() uint32 { return c.serial }

// AttestationCA returns the test CA that stands in for Yubico's root: the
// device attestation certificate (object 5fff01) is signed by it.
func (c *Card) AttestationCA() (*x509.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return x509.ParseCertificate(c.st.CA.Cert)
}

// AttestationCAPEM returns the test attestation CA certificate in PEM.
func (c *Card) AttestationCAPEM() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.caPEM()
}

// PowerOn, PowerOff and WarmReset are the reader's power events: each
// forgets the PIN verification, management key authentication and any
// command in progress; keys and PINs stay. With KeepPower, power-on and
// power-off do nothing.
func (c *Card) PowerOn() { c.powerEvent() }

// PowerOff is a power event; see PowerOn.
func (c *Card) PowerOff() { c.powerEvent() }

func (c *Card) powerEvent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keepPower {
		c.sess = session{app: appPIV}
	}
}

// KeepPower makes the card ignore the reader's power-off and power-on, as
// when the next program opens it before pcscd powers it down (about a
// second after the last one closed it here, a few seconds with a real
// reader): the security status then lasts from one program to the next,
// whatever the timing. A reset, Remove and FactoryReset still clear it;
// FactoryReset also turns KeepPower off.
func (c *Card) KeepPower(keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keepPower = keep
}

// PowerKept reports whether KeepPower is on.
func (c *Card) PowerKept() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keepPower
}

// WarmReset is a power event; see PowerOn.
func (c *Card) WarmReset() { c.clearSession() }

func (c *Card) clearSession() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = session{app: appPIV}
}

// FactoryReset restores the PIV applet to factory values, as the RESET
// command does, without needing PIN and PUK blocked first. Serial,
// firmware and attestation chain stay. It also zeroes the counters and
// restores the touch configuration the card started with.
func (c *Card) FactoryReset() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.factoryReset()
	c.sess = session{app: appPIV}
	c.keepPower = false
	c.touch.resetCounters(true)
	return c.save()
}

// save persists the state when the card has a state file.
func (c *Card) save() error {
	if c.path == "" {
		return nil
	}
	return saveState(c.path, c.st)
}

// commit persists a change and turns a failure into a status word.
func (c *Card) commit() uint16 {
	if err := c.save(); err != nil {
		return swMemoryFailure
	}
	return swOK
}

// Transmit processes one command APDU and returns the response APDU
// (response data followed by SW1 SW2). Every input, however malformed,
// gets a status word.
func (c *Card) Transmit(apdu []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touch.count(func(n *Counters) { n.APDUs++ })
	cmd, sw := parseAPDU(apdu)
	if sw != 0 {
		c.sess.pending, c.sess.chaining, c.sess.chain = nil, false, nil
		return status(sw)
	}
	if cmd.cla&^0x10 != 0 {
		return status(swClassNotSupported)
	}
	if cmd.ins == 0xc0 {
		return c.getResponse(cmd)
	}
	c.sess.pending = nil
	hdr := [3]byte{cmd.ins, cmd.p1, cmd.p2}
	if c.sess.chaining && c.sess.chainHdr != hdr {
		c.sess.chaining, c.sess.chain = false, nil
	}
	if cmd.cla&0x10 != 0 {
		if len(c.sess.chain)+len(cmd.data) > maxChain {
			c.sess.chaining, c.sess.chain = false, nil
			return status(swWrongLength)
		}
		c.sess.chaining, c.sess.chainHdr = true, hdr
		c.sess.chain = append(c.sess.chain, cmd.data...)
		return status(swOK)
	}
	if c.sess.chaining {
		cmd.data = append(c.sess.chain, cmd.data...)
		c.sess.chaining, c.sess.chain = false, nil
	}
	if cmd.ins != 0x87 {
		c.sess.pinFresh = false // PIN policy always: VERIFY must come right before
	}
	data, sw := c.dispatch(cmd)
	if sw != swOK {
		return status(sw)
	}
	return c.respond(data, cmd.ne)
}

// respond sends at most ne bytes and keeps the rest for GET RESPONSE.
func (c *Card) respond(data []byte, ne int) []byte {
	ne = min(ne, maxResponse)
	if len(data) <= ne {
		return withStatus(data, swOK)
	}
	c.sess.pending = bytes.Clone(data[ne:])
	return withStatus(data[:ne], swMoreData|uint16(min(len(c.sess.pending), 0x100)&0xff))
}

func (c *Card) getResponse(cmd command) []byte {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if c.sess.pending == nil {
		return status(swConditionsNotMet)
	}
	data := c.sess.pending
	c.sess.pending = nil
	return c.respond(data, cmd.ne)
}

// dispatch runs one complete command.
func (c *Card) dispatch(cmd command) ([]byte, uint16) {
	if cmd.ins == 0xa4 {
		return c.selectApp(cmd)
	}
	if c.sess.app == appMgmt {
		return c.mgmtCommand(cmd)
	}
	switch cmd.ins {
	case 0xfd:
		return c.st.Firmware[:], swOK
	case 0xf8:
		s := c.st.Serial
		return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}, swOK
	case 0x20:
		return nil, c.verify(cmd)
	case 0x24:
		return nil, c.changeReference(cmd)
	case 0x2c:
		return nil, c.resetRetryCounter(cmd)
	case 0x87:
		return c.generalAuthenticate(cmd)
	case 0x47:
		return c.generateAsymmetric(cmd)
	case 0xfe:
		return nil, c.importKey(cmd)
	case 0xf7:
		return c.metadata(cmd)
	case 0xcb:
		return c.getData(cmd)
	case 0xdb:
		return nil, c.putData(cmd)
	case 0xf9:
		return c.attest(cmd)
	case 0xff:
		return nil, c.setManagementKey(cmd)
	case 0xfa:
		return nil, c.setRetries(cmd)
	case 0xfb:
		return nil, c.reset(cmd)
	}
	return nil, swInsNotSupported
}
