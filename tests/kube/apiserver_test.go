package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apiServer is a plain REST client of the API server that scripts/lib/kube.sh
// started, authenticated by its admin client certificate. The objects are
// k8s.io/api types; client-go would add a hundred packages to this module
// for four verbs.
type apiServer struct {
	base   string
	client *http.Client
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	base := need(t, "SIGNET_TEST_KUBE_APISERVER")
	caFile := need(t, "SIGNET_TEST_KUBE_CA")
	certFile := need(t, "SIGNET_TEST_KUBE_CLIENT_CERT")
	keyFile := need(t, "SIGNET_TEST_KUBE_CLIENT_KEY")
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in %s", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}}
	t.Cleanup(tr.CloseIdleConnections)
	// Above the webhooks' 10 s: a create waits for both of them.
	return &apiServer{base: strings.TrimSuffix(base, "/"), client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// apiError is an answer of the API server other than 2xx, with the Status
// it sent (an admission denial's message is in Status.Message).
type apiError struct {
	code   int
	status metav1.Status
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %s (%s)", e.code, e.status.Message, e.status.Reason)
}

// denial returns the message of err when the API server refused the
// request with a Status, and false for any other error.
func denial(err error) (string, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status.Message, true
	}
	return "", false
}

func (a *apiServer) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &apiError{code: resp.StatusCode}
		if json.Unmarshal(b, &ae.status) != nil || ae.status.Message == "" {
			ae.status.Message = strings.TrimSpace(string(b))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

func (a *apiServer) create(ctx context.Context, path string, obj, out any) error {
	return a.do(ctx, http.MethodPost, path, obj, out)
}

func (a *apiServer) get(ctx context.Context, path string, out any) error {
	return a.do(ctx, http.MethodGet, path, nil, out)
}

func (a *apiServer) delete(ctx context.Context, path string) error {
	return a.do(ctx, http.MethodDelete, path, nil, nil)
}
