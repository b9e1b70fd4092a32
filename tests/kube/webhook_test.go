package kube

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	admv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// webhook is `signet admission serve` on 127.0.0.1 with a TLS certificate
// of a CA made for the test; the API server reaches it by URL with that CA
// as caBundle, through a front that records each call with the registry
// requests the webhook made while answering it. The URL stays the same
// when the server is restarted with another policy.
type webhook struct {
	bin, home, dir string
	addr           string // signet's
	front          string // the URL the API server calls
	certFile       string
	keyFile        string
	caPEM          []byte
	client         *http.Client

	mu    sync.Mutex
	calls []webhookCall

	cmd    *exec.Cmd
	policy string
	done   chan struct{}
	log    *lockedBuffer
}

func newWebhook(t *testing.T, bin string, registry *countingProxy) *webhook {
	t.Helper()
	dir := t.TempDir()
	w := &webhook{bin: bin, home: filepath.Join(dir, "home"), dir: dir}
	w.caPEM, w.certFile, w.keyFile = makeServingCert(t, dir)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(w.caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	w.client = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = l.Addr().String()
	l.Close()
	t.Cleanup(func() { w.stop(t) })
	w.startFront(t, registry)
	return w
}

// webhookCall is one call of the API server: the path and the registry
// requests made while the webhook answered it. The API server calls the
// mutating webhooks before the validating ones, one after the other.
type webhookCall struct {
	path     string
	registry []string
}

func (w *webhook) startFront(t *testing.T, registry *countingProxy) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(w.certFile, w.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "https", Host: w.addr})
	rp.Transport = w.client.Transport
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mark := registry.mark()
		rp.ServeHTTP(rw, r)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.calls = append(w.calls, webhookCall{path: r.URL.Path, registry: registry.since(mark)})
	}))
	front.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	front.StartTLS()
	t.Cleanup(front.Close)
	w.front = front.URL
}

// mark returns the number of calls so far, for callsSince.
func (w *webhook) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

// callsSince returns the calls after mark.
func (w *webhook) callsSince(mark int) []webhookCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]webhookCall(nil), w.calls[mark:]...)
}

// url is the webhook's endpoint PATH (/mutate, /validate) for the API
// server.
func (w *webhook) url(path string) string { return w.front + path }

// start runs the server with the policy file and waits until /healthz
// answers 200.
func (w *webhook) start(t *testing.T, policy string) {
	t.Helper()
	w.stop(t)
	w.log, w.policy = &lockedBuffer{}, policy
	w.cmd = exec.Command(w.bin, "admission", "serve", "--addr", w.addr,
		"--tls-cert", w.certFile, "--tls-key", w.keyFile,
		"--policy", policy, "--home", w.home)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	dieWithTest(w.cmd)
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting signet admission serve: %v", err)
	}
	w.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(w.cmd, w.done)

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-w.done:
			t.Fatalf("signet admission serve exited: %v\n%s", w.cmd.ProcessState, w.log.String())
		default:
		}
		resp, err := w.client.Get("https://" + w.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("signet admission serve: /healthz not ready within 60s (%v)\n%s", err, w.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop ends the server (interrupt, then kill after 10 s) and logs what it
// wrote when the test failed.
func (w *webhook) stop(t *testing.T) {
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
	if t.Failed() {
		t.Logf("signet admission serve (policy %s) wrote:\n%s", w.policy, w.log.String())
	}
	w.cmd = nil
}

// validateOnly labels the namespaces where only the validating webhook
// runs: there it is the one that denies, as it would when another mutating
// webhook changed an image after signet's.
const validateOnly = "signet.dev/e2e-validate-only"

// e2eLabel marks the webhook configurations of this test.
const e2eLabel = "signet.dev/e2e"

// register installs the server as a mutating (/mutate) and a validating
// (/validate) webhook for Pods and Deployments, created or updated, in
// every namespace but "signet" (and, for /mutate, the validateOnly ones),
// failing closed; both are removed when the test ends. Configurations an
// earlier run left behind (killed before its cleanups) are removed first:
// failing closed, they would refuse this run's Pods.
func (w *webhook) register(t *testing.T, ctx context.Context, api *apiServer, name string) {
	t.Helper()
	fail := admv1.Fail
	none := admv1.SideEffectClassNone
	never := admv1.NeverReinvocationPolicy
	timeout := int32(10)
	rules := []admv1.RuleWithOperations{
		{Operations: []admv1.OperationType{admv1.Create, admv1.Update},
			Rule: admv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}},
		{Operations: []admv1.OperationType{admv1.Create, admv1.Update},
			Rule: admv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}},
	}
	notSignet := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"signet"},
	}}}
	mutateIn := notSignet.DeepCopy()
	mutateIn.MatchExpressions = append(mutateIn.MatchExpressions,
		metav1.LabelSelectorRequirement{Key: validateOnly, Operator: metav1.LabelSelectorOpDoesNotExist})
	mutateURL, validateURL := w.url("/mutate"), w.url("/validate")
	mutating := &admv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{e2eLabel: "true"}},
		Webhooks: []admv1.MutatingWebhook{{
			Name:                    "mutate.signet.dev",
			ClientConfig:            admv1.WebhookClientConfig{URL: &mutateURL, CABundle: w.caPEM},
			Rules:                   rules,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			NamespaceSelector:       mutateIn,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy:      &never,
		}},
	}
	validating := &admv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{e2eLabel: "true"}},
		Webhooks: []admv1.ValidatingWebhook{{
			Name:                    "validate.signet.dev",
			ClientConfig:            admv1.WebhookClientConfig{URL: &validateURL, CABundle: w.caPEM},
			Rules:                   rules,
			FailurePolicy:           &fail,
			SideEffects:             &none,
			NamespaceSelector:       notSignet,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	const base = "/apis/admissionregistration.k8s.io/v1/"
	for _, kind := range []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"} {
		if err := api.delete(ctx, base+kind+"?labelSelector="+e2eLabel); err != nil {
			t.Fatalf("removing the %s of earlier runs: %v", kind, err)
		}
	}
	if err := api.create(ctx, base+"mutatingwebhookconfigurations", mutating, nil); err != nil {
		t.Fatalf("registering the mutating webhook: %v", err)
	}
	t.Cleanup(func() { deleteQuietly(t, api, base+"mutatingwebhookconfigurations/"+name) })
	if err := api.create(ctx, base+"validatingwebhookconfigurations", validating, nil); err != nil {
		t.Fatalf("registering the validating webhook: %v", err)
	}
	t.Cleanup(func() { deleteQuietly(t, api, base+"validatingwebhookconfigurations/"+name) })
}

// deleteQuietly removes what a test registered, after it: a webhook left
// behind, failing closed, would refuse every later Pod.
func deleteQuietly(t *testing.T, api *apiServer, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := api.delete(ctx, path); err != nil {
		t.Errorf("cleaning up %s: %v", path, err)
	}
}

// makeServingCert writes a certificate for 127.0.0.1 and its key into dir,
// issued by a CA made here, and returns the CA (PEM) and the two files.
func makeServingCert(t *testing.T, dir string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "signet kube e2e webhook CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "signet admission webhook"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePEM(t, certFile, "CERTIFICATE", leafDER)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
