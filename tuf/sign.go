package tuf

import (
	"bytes"
	"context"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// signMetadata adds s's signature over m's canonical signed part, as go-tuf's
// Metadata.Sign does, but keeps the signer's own error: go-tuf replaces it
// with "problem signing metadata", which would hide "the YubiKey was not
// touched" or "wrong PIN, 2 tries left" from the user. ctx reaches the
// signer (options.WithContext): a YubiKey signer checks it before it asks
// for the PIN and again before the card signs, so a cancelled command does
// not start a card operation.
func signMetadata[T metadata.Roles](ctx context.Context, m *metadata.Metadata[T], s signature.Signer) error {
	payload, err := cjson.EncodeCanonical(m.Signed)
	if err != nil {
		return fmt.Errorf("encoding metadata for signing: %w", err)
	}
	sig, err := s.SignMessage(bytes.NewReader(payload), options.WithContext(ctx))
	if err != nil {
		return err
	}
	pub, err := s.PublicKey()
	if err != nil {
		return err
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return err
	}
	id, err := key.ID()
	if err != nil {
		return err
	}
	m.Signatures = append(m.Signatures, metadata.Signature{KeyID: id, Signature: sig})
	return nil
}
