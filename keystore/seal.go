package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/signet-dev/signet/internal/errkind"
)

// ErrWrongPassphrase is returned (marked errkind.Key) when a passphrase does
// not decrypt the keystore master key, an export bundle or an encrypted PEM
// key.
var ErrWrongPassphrase = errors.New("wrong passphrase")

func keyErr(err error) error   { return errkind.Mark(errkind.Key, err) }
func inputErr(err error) error { return errkind.Mark(errkind.Input, err) }

// envelope is the outer shape of go-securesystemslib's encrypted format, read
// before decrypting so that a corrupt file is told apart from a wrong
// passphrase.
type envelope struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

func checkEnvelope(data []byte) error {
	var e envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return errors.New("not an encrypted key file")
	}
	if e.KDF.Name != "scrypt" || e.Cipher.Name != "nacl/secretbox" {
		return fmt.Errorf("unsupported encryption %q/%q", e.KDF.Name, e.Cipher.Name)
	}
	if len(e.Cipher.Nonce) != 24 || len(e.Ciphertext) < 16 || len(e.KDF.Salt) == 0 {
		return errors.New("malformed encrypted data")
	}
	p := e.KDF.Params
	if p.R != 8 || p.P != 1 || (p.N != 1<<15 && p.N != 1<<16 && p.N != 1<<17) {
		return errors.New("unsupported scrypt parameters")
	}
	return nil
}

// sealWithPassphrase encrypts plain under a passphrase asked for req: one
// scrypt derivation.
func (o *options) sealWithPassphrase(ctx context.Context, req PassphraseRequest, plain []byte) ([]byte, error) {
	pass, err := o.askPassphrase(ctx, req)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	if len(pass) == 0 {
		return nil, inputErr(errors.New("the passphrase must not be empty"))
	}
	o.derived()
	out, err := encrypted.EncryptWithCustomKDFParameters(plain, pass, o.strength)
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	return out, nil
}

// openWithPassphrase decrypts data (go-securesystemslib encrypted JSON) with
// a passphrase asked for req: one scrypt derivation. what names the data in
// errors.
func (o *options) openWithPassphrase(ctx context.Context, req PassphraseRequest, what string, data []byte) ([]byte, error) {
	if err := checkEnvelope(data); err != nil {
		return nil, keyErr(fmt.Errorf("%s is corrupt: %w", what, err))
	}
	pass, err := o.askPassphrase(ctx, req)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	return o.decryptEnvelope(what, data, pass)
}

func (o *options) decryptEnvelope(what string, data, pass []byte) ([]byte, error) {
	if err := checkEnvelope(data); err != nil {
		return nil, keyErr(fmt.Errorf("%s is corrupt: %w", what, err))
	}
	o.derived()
	plain, err := encrypted.Decrypt(data, pass)
	if err != nil {
		return nil, keyErr(fmt.Errorf("decrypting %s: %w", what, ErrWrongPassphrase))
	}
	return plain, nil
}

func markVerification(err error) error { return errkind.Mark(errkind.Verification, err) }
