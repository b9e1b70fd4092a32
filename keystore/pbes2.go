package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// PKCS#5 v2.1 (RFC 8018) and RFC 7914 object identifiers.
var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// Limits that keep a hostile file from costing minutes of CPU or gigabytes
// of memory.
const (
	// One million PBKDF2-HMAC-SHA256 rounds take about half a second here;
	// OWASP asks for 600,000 and openssl writes 2,048.
	maxPBKDF2Iterations = 1_000_000
	maxScryptN          = 1 << 20
	maxScryptNR         = 1 << 21 // 128*N*r bytes of memory: at most 256 MiB
	maxScryptP          = 16
	// maxScryptWork bounds N*r*p, the work of a derivation: 2^20 is N=2^17,
	// r=8, p=1 (OWASP's scrypt setting), about half a second here.
	maxScryptWork = 1 << 20
)

type encryptedPrivateKeyInfo struct {
	Algorithm     pkixAlgorithm
	EncryptedData []byte
}

type pkixAlgorithm struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KeyDerivationFunc pkixAlgorithm
	EncryptionScheme  pkixAlgorithm
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int           `asn1:"optional"`
	PRF            pkixAlgorithm `asn1:"optional"`
}

type scryptParams struct {
	Salt                     []byte
	CostParameter            int
	BlockSize                int
	ParallelizationParameter int
	KeyLength                int `asn1:"optional"`
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (PBES2) and returns the
// PKCS#8 DER inside.
func decryptPKCS8(der, pass []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshalAll(der, &info); err != nil {
		return nil, inputErr(fmt.Errorf("parsing encrypted private key: %w", err))
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, inputErr(fmt.Errorf("encrypted private key: unsupported scheme %s (only PBES2)", info.Algorithm.Algorithm))
	}
	var params pbes2Params
	if err := unmarshalAll(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, inputErr(fmt.Errorf("parsing PBES2 parameters: %w", err))
	}
	keyLen, iv, err := cbcParams(params.EncryptionScheme)
	if err != nil {
		return nil, err
	}
	key, err := deriveKey(params.KeyDerivationFunc, pass, keyLen)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, inputErr(fmt.Errorf("encrypted private key: %w", err))
	}
	data := info.EncryptedData
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, inputErr(errors.New("encrypted private key: ciphertext is not a whole number of blocks"))
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	out, ok := unpad(plain)
	if !ok {
		clear(plain)
		return nil, wrongPassphrase()
	}
	return out, nil
}

func cbcParams(alg pkixAlgorithm) (int, []byte, error) {
	var keyLen int
	switch {
	case alg.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	case alg.Algorithm.Equal(oidAES192CBC):
		keyLen = 24
	case alg.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return 0, nil, inputErr(fmt.Errorf("encrypted private key: unsupported cipher %s (only AES-CBC)", alg.Algorithm))
	}
	var iv []byte
	if err := unmarshalAll(alg.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return 0, nil, inputErr(errors.New("encrypted private key: bad AES-CBC IV"))
	}
	return keyLen, iv, nil
}

func deriveKey(kdf pkixAlgorithm, pass []byte, keyLen int) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if err := unmarshalAll(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, inputErr(fmt.Errorf("parsing PBKDF2 parameters: %w", err))
		}
		if p.IterationCount < 1 || p.IterationCount > maxPBKDF2Iterations {
			return nil, inputErr(fmt.Errorf("PBKDF2 iteration count %d out of range", p.IterationCount))
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, inputErr(errors.New("PBKDF2 key length does not match the cipher"))
		}
		var h func() hash.Hash
		switch {
		case len(p.PRF.Algorithm) == 0 || p.PRF.Algorithm.Equal(oidHMACWithSHA1):
			h = sha1.New
		case p.PRF.Algorithm.Equal(oidHMACWithSHA256):
			h = sha256.New
		default:
			return nil, inputErr(fmt.Errorf("unsupported PBKDF2 PRF %s (only HMAC-SHA1 and HMAC-SHA256)", p.PRF.Algorithm))
		}
		return pbkdf2.Key(pass, p.Salt, p.IterationCount, keyLen, h), nil
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if err := unmarshalAll(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, inputErr(fmt.Errorf("parsing scrypt parameters: %w", err))
		}
		if p.CostParameter < 2 || p.CostParameter > maxScryptN || p.BlockSize < 1 || p.BlockSize > maxScryptNR ||
			p.CostParameter*p.BlockSize > maxScryptNR || p.ParallelizationParameter < 1 || p.ParallelizationParameter > maxScryptP ||
			p.CostParameter*p.BlockSize*p.ParallelizationParameter > maxScryptWork {
			return nil, inputErr(errors.New("scrypt parameters out of range"))
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, inputErr(errors.New("scrypt key length does not match the cipher"))
		}
		k, err := scrypt.Key(pass, p.Salt, p.CostParameter, p.BlockSize, p.ParallelizationParameter, keyLen)
		if err != nil {
			return nil, inputErr(fmt.Errorf("scrypt: %w", err))
		}
		return k, nil
	}
	return nil, inputErr(fmt.Errorf("unsupported key derivation %s (only PBKDF2 and scrypt)", kdf.Algorithm))
}

// unpad removes PKCS#7 padding in constant time with respect to the pad
// bytes' values.
func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n < 1 || n > aes.BlockSize || n > len(b) {
		return nil, false
	}
	pad := b[len(b)-n:]
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(pad, want) != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}

func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}
