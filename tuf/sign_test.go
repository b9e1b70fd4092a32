package tuf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// ctxSigner fails with its context's error, as the YubiKey signer does
// when the command was cancelled before the card is asked.
type ctxSigner struct {
	signature.Signer
	got context.Context
}

func (s *ctxSigner) SignMessage(r io.Reader, opts ...signature.SignOption) ([]byte, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	s.got = ctx
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Signer.SignMessage(r, opts...)
}

func TestSignMetadataPassesTheCommandsContextToTheSigner(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(k, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	s := &ctxSigner{Signer: sv}
	m := metadata.Targets(time.Now().Add(time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := signMetadata(ctx, m, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("signing with a cancelled context: err = %v, want context.Canceled", err)
	}
	if len(m.Signatures) != 0 {
		t.Fatalf("a cancelled signature was added: %v", m.Signatures)
	}

	type key struct{}
	live := context.WithValue(context.Background(), key{}, "the command's")
	if err := signMetadata(live, m, s); err != nil {
		t.Fatal(err)
	}
	if s.got.Value(key{}) != "the command's" {
		t.Fatal("the signer did not get the caller's context")
	}
	if len(m.Signatures) != 1 {
		t.Fatalf("signatures = %d, want 1", len(m.Signatures))
	}
}
