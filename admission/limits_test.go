package admission_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/admission"

	corev1 "k8s.io/api/core/v1"
)

func TestSecondAdmissionOfAnImageCostsAtMostTwoRegistryRequests(t *testing.T) {
	p := newPublisher(t)
	d1 := p.push("v1")
	w := newWebhook(t, p, "deny")
	if resp := w.review(t, "/mutate", podKind, corev1.Pod{Spec: podSpec(p.repo + ":v1")}); !resp.Allowed {
		t.Fatalf("first admission denied: %v", resp.Result)
	}
	before := w.requests.n.Load()
	if resp := w.review(t, "/mutate", podKind, corev1.Pod{Spec: podSpec(p.repo + ":v1")}); !resp.Allowed {
		t.Fatalf("second admission denied: %v", resp.Result)
	}
	n := w.requests.n.Load() - before
	t.Logf("second admission: %d registry requests", n)
	if n > 2 {
		t.Fatalf("second admission of %s:v1 made %d registry requests, want at most 2", p.repo, n)
	}
	before = w.requests.n.Load()
	if resp := w.review(t, "/validate", podKind, corev1.Pod{Spec: podSpec(p.repo + ":v1@" + d1)}); !resp.Allowed {
		t.Fatalf("validate of the pinned image denied: %v", resp.Result)
	}
	if n := w.requests.n.Load() - before; n > 1 {
		t.Fatalf("validate of the pinned image made %d registry requests, want at most 1 (the trust data's manifest)", n)
	}
}

func TestMalformedReviewsAreBadRequestsAndOtherMethodsAreRefused(t *testing.T) {
	p := newPublisher(t)
	w := newWebhook(t, p, "deny")
	for name, body := range map[string]string{
		"not json":       "{",
		"no request":     `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`,
		"v1beta1":        `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}`,
		"bad pod":        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"object":{"spec":{"containers":"nope"}}}}`,
		"empty body":     "",
		"trailing array": `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			if code, data := w.post(t, "/mutate", []byte(body)); code != http.StatusBadRequest {
				t.Fatalf("HTTP %d, want 400: %s", code, data)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), 3<<20+1)
		if code, _ := w.post(t, "/validate", big); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("HTTP %d, want 413", code)
		}
	})
	t.Run("GET /mutate", func(t *testing.T) {
		resp, err := http.Get(w.url + "/mutate")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("HTTP %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("healthz", func(t *testing.T) {
		resp, err := http.Get(w.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", resp.StatusCode)
		}
	})
}

func TestUnknownKindsAndDeletesAreAllowedAndLogged(t *testing.T) {
	p := newPublisher(t)
	w := newWebhook(t, p, "deny")
	cm := admissionKind{gvk: podKind.gvk}
	cm.gvk.Kind = "ConfigMap"
	if resp := w.review(t, "/validate", cm, corev1.ConfigMap{Data: map[string]string{"a": "b"}}); !resp.Allowed {
		t.Fatalf("a ConfigMap was denied: %v", resp.Result)
	}
	if !strings.Contains(w.log.String(), "ConfigMap") || !strings.Contains(w.log.String(), "does not check") {
		t.Fatalf("log does not say the ConfigMap was not checked:\n%s", w.log)
	}
}

func TestHostileImageNamesAreEscapedInTheDenialAndTheLog(t *testing.T) {
	p := newPublisher(t)
	w := newWebhook(t, p, "deny")
	hostile := []string{
		"evil\x1b]0;pwned\x07.example/app:1",
		"evil.example/app:1\n\rsignet: allowed",
		"evil.example/\u009b31mapp:1",
		"evil.example/app@sha256:\x1b[2J",
	}
	for _, image := range hostile {
		resp := w.review(t, "/validate", podKind, corev1.Pod{Spec: podSpec(image)})
		msg := resp.Result.Message
		wantDenied(t, resp.Allowed, msg, "image evil")
		if strings.ContainsAny(msg, "\x07\u009b") {
			t.Fatalf("message carries a control character: %q", msg)
		}
	}
	if log := w.log.String(); strings.ContainsAny(log, "\x1b\x07\r\u009b") || strings.Count(log, "\n") != len(hostile) {
		t.Fatalf("log is not one escaped line per review:\n%q", log)
	}
}

func TestARegistryThatNeverAnswersGetsADenialWithinTheCheckDeadline(t *testing.T) {
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer stuck.Close()
	defer stuck.CloseClientConnections()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "roots"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "roots", "app.json"), []byte(minimalRoot), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := strings.TrimPrefix(stuck.URL, "http://") + "/team/app"
	w := startWebhook(t, dir, repo, "deny", admission.WithCheckTimeout(300*time.Millisecond))
	resp := w.review(t, "/mutate", podKind, corev1.Pod{Spec: podSpec(repo+":v1", repo+":v2")})
	wantDenied(t, resp.Allowed, resp.Result.Message, "image "+repo+":v", "not checked within 300ms")
}
