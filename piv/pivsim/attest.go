package pivsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Yubico's attestation extensions (1.3.6.1.4.1.41482.3.x).
var (
	oidFirmware   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 3}
	oidSerial     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 7}
	oidPolicy     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 8}
	oidFormFactor = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 9}
)

// Validity of the simulated chain: fixed, so that certificates made on
// different days of one state file agree.
var (
	chainNotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	chainNotAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// newAttestation makes the test CA and the device attestation key and
// certificate (what Yubico puts in slot f9 and object 5fff01).
func (st *state) newAttestation() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomCertSerial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("pivsim Test PIV Attestation CA %d", st.Serial)},
		NotBefore:             chainNotBefore,
		NotAfter:              chainNotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            1,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("making attestation ca: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	devKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := asn1.Marshal(int64(st.Serial))
	if err != nil {
		return err
	}
	devTmpl := &x509.Certificate{
		SerialNumber:          randomCertSerial(),
		Subject:               pkix.Name{CommonName: "Yubico PIV Attestation"},
		NotBefore:             chainNotBefore,
		NotAfter:              chainNotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
		ExtraExtensions: []pkix.Extension{
			{Id: oidFirmware, Value: st.Firmware[:]},
			{Id: oidSerial, Value: serial},
		},
	}
	devDER, err := x509.CreateCertificate(rand.Reader, devTmpl, caCert, &devKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("making device attestation certificate: %w", err)
	}
	caP8, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		return err
	}
	devP8, err := x509.MarshalPKCS8PrivateKey(devKey)
	if err != nil {
		return err
	}
	st.CA = keyCert{Key: caP8, Cert: caDER}
	st.Device = keyCert{Key: devP8, Cert: devDER}
	return nil
}

// attestSlot makes the slot attestation certificate for a generated key,
// signed by the device attestation key, with Yubico's extensions.
func (st *state) attestSlot(slot byte, k *slotKey) ([]byte, error) {
	if k.Origin != originGenerated {
		return nil, errors.New("imported keys have no attestation")
	}
	dev, err := x509.ParseCertificate(st.Device.Cert)
	if err != nil {
		return nil, err
	}
	devKey, err := x509.ParsePKCS8PrivateKey(st.Device.Key)
	if err != nil {
		return nil, err
	}
	priv, err := k.private()
	if err != nil {
		return nil, err
	}
	serial, err := asn1.Marshal(int64(st.Serial))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomCertSerial(),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("YubiKey PIV Attestation %02x", slot)},
		NotBefore:    dev.NotBefore,
		NotAfter:     dev.NotAfter,
		ExtraExtensions: []pkix.Extension{
			{Id: oidFirmware, Value: st.Firmware[:]},
			{Id: oidSerial, Value: serial},
			{Id: oidPolicy, Value: []byte{k.PINPolicy, k.TouchPolicy}},
			{Id: oidFormFactor, Value: []byte{st.FormFactor}},
		},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, dev, &priv.PublicKey, devKey)
}

// caPEM is the attestation CA certificate in PEM.
func (st *state) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: st.CA.Cert})
}

// deviceObject is the content of object 5fff01 (certificate, info, LRC).
func (st *state) deviceObject() []byte {
	out := appendTLV(nil, 0x70, st.Device.Cert)
	out = appendTLV(out, 0x71, []byte{0})
	return appendTLV(out, 0xfe, nil)
}

func randomCertSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return big.NewInt(1)
	}
	return n.Add(n, big.NewInt(1))
}
