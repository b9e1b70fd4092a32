package pivsim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/signet-dev/signet/internal/atomicfile"
)

// stateFormat is the version of the state file layout.
const stateFormat = 1

// Factory values of a YubiKey's PIV applet.
var (
	defaultPIN           = padPIN([]byte("123456"))
	defaultPUK           = padPIN([]byte("12345678"))
	defaultManagementKey = []byte{
		1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	}
)

// state is everything a card remembers across power cycles and restarts.
type state struct {
	Format     int      `json:"format"`
	Serial     uint32   `json:"serial"`
	Firmware   [3]byte  `json:"firmware"`
	FormFactor byte     `json:"form_factor"`
	PIN        []byte   `json:"pin"` // 8 bytes, padded with 0xff
	PUK        []byte   `json:"puk"`
	PINMax     int      `json:"pin_max"`
	PINLeft    int      `json:"pin_left"`
	PUKMax     int      `json:"puk_max"`
	PUKLeft    int      `json:"puk_left"`
	Mgmt       mgmtKey  `json:"management_key"`
	Keys       keyTable `json:"keys"`
	// Objects holds the content of each data object's 53 tag, by object
	// ID in hex (5fc105).
	Objects map[string][]byte `json:"objects"`
	// CA and Device are the attestation chain: the test CA standing in for
	// Yubico's root, and the device attestation key certified by it.
	CA     keyCert `json:"attestation_ca"`
	Device keyCert `json:"device_attestation"`
}

type mgmtKey struct {
	Alg   byte   `json:"alg"`
	Key   []byte `json:"key"`
	Touch bool   `json:"touch"`
}

// slotKey is an asymmetric key in a slot.
type slotKey struct {
	Alg         byte   `json:"alg"`
	PINPolicy   byte   `json:"pin_policy"`
	TouchPolicy byte   `json:"touch_policy"`
	Origin      byte   `json:"origin"` // 1 generated, 2 imported
	D           []byte `json:"d"`      // private scalar, big-endian, curve size
}

// keyTable maps a slot ("9a", "82") to its key.
type keyTable map[string]*slotKey

type keyCert struct {
	Key  []byte `json:"key"`  // PKCS #8
	Cert []byte `json:"cert"` // DER
}

// newState makes a factory-fresh card with a new attestation CA.
func newState(serial uint32, fw [3]byte, formFactor byte) (*state, error) {
	st := &state{Format: stateFormat, Serial: serial, Firmware: fw, FormFactor: formFactor}
	st.factoryReset()
	if err := st.newAttestation(); err != nil {
		return nil, err
	}
	return st, nil
}

// factoryReset restores what a PIV reset restores; the serial, firmware
// and attestation chain stay, as on a real YubiKey.
func (st *state) factoryReset() {
	st.PIN = bytes.Clone(defaultPIN)
	st.PUK = bytes.Clone(defaultPUK)
	st.PINMax, st.PINLeft, st.PUKMax, st.PUKLeft = 3, 3, 3, 3
	st.Mgmt = mgmtKey{Alg: st.defaultMgmtAlg(), Key: bytes.Clone(defaultManagementKey)}
	st.Keys = keyTable{}
	st.Objects = map[string][]byte{}
}

// defaultMgmtAlg is 3DES before firmware 5.7 and AES-192 from 5.7.
func (st *state) defaultMgmtAlg() byte {
	if st.atLeast(5, 7, 0) {
		return algAES192
	}
	return alg3DES
}

func (st *state) atLeast(major, minor, patch byte) bool {
	f := st.Firmware
	if f[0] != major {
		return f[0] > major
	}
	if f[1] != minor {
		return f[1] > minor
	}
	return f[2] >= patch
}

func (st *state) validate() error {
	switch {
	case st.Format != stateFormat:
		return fmt.Errorf("unsupported state format %d", st.Format)
	case len(st.PIN) != 8 || len(st.PUK) != 8:
		return errors.New("pin or puk of the wrong length")
	case len(st.CA.Cert) == 0 || len(st.Device.Cert) == 0:
		return errors.New("attestation chain missing")
	}
	if st.Keys == nil {
		st.Keys = keyTable{}
	}
	if st.Objects == nil {
		st.Objects = map[string][]byte{}
	}
	for slot, k := range st.Keys {
		if k == nil || curveFor(k.Alg) == nil {
			return fmt.Errorf("bad key in slot %s", slot)
		}
	}
	return nil
}

// loadState reads a state file; it returns fs.ErrNotExist when there is none.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("parsing state file %s: %w", path, err)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return &st, nil
}

// saveState writes the state atomically and durably (internal/atomicfile).
func saveState(path string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600, true); err != nil {
		return fmt.Errorf("saving card state: %w", err)
	}
	return nil
}

// randomSerial picks an eight-digit serial like a YubiKey 5's.
func randomSerial() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return 10_000_000 + (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%89_999_999
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
