package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAdmissionWebhookOnARealAPIServer registers `signet admission serve`
// as the mutating and the validating webhook of a real kube-apiserver and
// creates Pods and Deployments through the API server, as kubectl would:
// what the API server stores, or the denial it answers, is the outcome.
func TestAdmissionWebhookOnARealAPIServer(t *testing.T) {
	api := newAPIServer(t)
	registry := need(t, "SIGNET_TEST_REGISTRY")
	bin := buildSignet(t)
	if ok, why := hasCommand(t.Context(), bin, "admission", "serve"); !ok {
		t.Fatalf("this signet has no `signet admission serve`: %s", why)
	}
	ctx := t.Context()

	// The repository: v1 signed; moved signed, then moved by someone
	// without the keys; unsigned never signed.
	proxy := newCountingProxy(t, registry)
	uniq := randomHex(t)
	repo := proxy.host + "/kube-" + uniq + "/app"
	uncovered := proxy.host + "/elsewhere-" + uniq + "/app:v1"
	cli := newSignetCLI(t, bin)
	cli.run(t, "key", "generate", "root")
	cli.run(t, "init", repo, "--root-key", "root")
	signed := pushRandom(t, repo+":v1")
	cli.run(t, "sign", repo+":v1")
	pushRandom(t, repo+":moved")
	cli.run(t, "sign", repo+":moved")
	pushRandom(t, repo+":moved")
	unsigned := pushRandom(t, repo+":unsigned")

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "roots", "app.json"), cli.run(t, "trust", "show", repo, "--raw"))
	policy := func(unmatched string) string {
		file := filepath.Join(dir, "policy-"+unmatched+".yaml")
		writeFile(t, file, fmt.Sprintf("rules:\n  - repositories: [%q]\n    root: roots/app.json\nunmatched: %s\n",
			proxy.host+"/kube-"+uniq+"/*", unmatched))
		return file
	}

	hook := newWebhook(t, bin, proxy)
	hook.start(t, policy("allow"))
	ns := "signet-e2e-" + uniq
	createNamespace(t, ctx, api, ns, nil)
	nsValidate := "signet-e2e-validate-" + uniq
	createNamespace(t, ctx, api, nsValidate, map[string]string{validateOnly: "true"})
	hook.register(t, ctx, api, "signet-e2e-"+uniq)
	waitForWebhooks(t, ctx, api, ns, repo+":v1", repo+":unsigned")

	pinned := repo + ":v1@" + signed.String()
	t.Run("signed tag is stored pinned to the verified digest", func(t *testing.T) {
		got := admitPod(t, ctx, api, ns, "signed", repo+":v1")
		if got != pinned {
			t.Errorf("stored image %q, want %q", got, pinned)
		}
	})
	t.Run("second admission of the same image makes at most 2 registry requests", func(t *testing.T) {
		mark := hook.mark()
		got := admitPod(t, ctx, api, ns, "signed-again", repo+":v1")
		if got != pinned {
			t.Errorf("stored image %q, want %q", got, pinned)
		}
		// /mutate verifies the tag (the _tuf manifest, answered 304, and
		// the tag); /validate then sees the pinned reference and needs
		// the trust data's manifest at most.
		want := map[string]int{"/mutate": 2, "/validate": 1}
		calls := hook.callsSince(mark)
		total := 0
		for _, c := range calls {
			total += len(c.registry)
			if len(c.registry) > want[c.path] {
				t.Errorf("%s made %d registry requests, want at most %d:\n%s", c.path, len(c.registry), want[c.path], strings.Join(c.registry, "\n"))
			}
		}
		if len(calls) != 2 || calls[0].path != "/mutate" || calls[1].path != "/validate" {
			t.Errorf("webhook calls %v, want /mutate then /validate", calls)
		}
		t.Logf("second admission: %d registry requests in all (%v)", total, calls)
	})
	t.Run("moved tag is denied", func(t *testing.T) {
		denyPod(t, ctx, api, ns, "moved", repo+":moved")
	})
	t.Run("deployment with an unsigned image is denied", func(t *testing.T) {
		image := repo + ":unsigned"
		err := api.create(ctx, deploymentsPath(ns), deployment("unsigned", image), nil)
		expectDenied(t, err, image)
		expectAbsent(t, ctx, api, deploymentsPath(ns)+"/unsigned")
	})
	t.Run("deployment with a signed image is stored pinned", func(t *testing.T) {
		var got appsv1.Deployment
		if err := api.create(ctx, deploymentsPath(ns), deployment("signed", repo+":v1"), &got); err != nil {
			t.Fatalf("creating the deployment: %v", err)
		}
		if img := got.Spec.Template.Spec.Containers[0].Image; img != pinned {
			t.Errorf("stored image %q, want %q", img, pinned)
		}
	})
	t.Run("digest a signed tag points at is admitted", func(t *testing.T) {
		image := repo + "@" + signed.String()
		if got := admitPod(t, ctx, api, ns, "by-digest", image); got != image {
			t.Errorf("stored image %q, want %q", got, image)
		}
	})
	t.Run("validating webhook alone denies a moved tag", func(t *testing.T) {
		msg := denyPod(t, ctx, api, nsValidate, "moved", repo+":moved")
		if !strings.Contains(msg, `"validate.signet.dev"`) {
			t.Errorf("denied by %q, want validate.signet.dev", msg)
		}
	})
	t.Run("validating webhook alone denies a pinned digest other than the signed one", func(t *testing.T) {
		msg := denyPod(t, ctx, api, nsValidate, "wrong-pin", repo+":v1@"+unsigned.String())
		if !strings.Contains(msg, `"validate.signet.dev"`) {
			t.Errorf("denied by %q, want validate.signet.dev", msg)
		}
	})
	t.Run("uncovered image is admitted unchanged under unmatched allow", func(t *testing.T) {
		if got := admitPod(t, ctx, api, ns, "uncovered", uncovered); got != uncovered {
			t.Errorf("stored image %q, want %q", got, uncovered)
		}
	})

	hook.start(t, policy("deny"))
	t.Run("uncovered image is denied under unmatched deny", func(t *testing.T) {
		denyPod(t, ctx, api, ns, "uncovered-denied", uncovered)
	})
	t.Run("signed tag is still admitted under unmatched deny", func(t *testing.T) {
		if got := admitPod(t, ctx, api, ns, "signed-deny", repo+":v1"); got != pinned {
			t.Errorf("stored image %q, want %q", got, pinned)
		}
	})
	t.Run("namespace signet is not checked", func(t *testing.T) {
		createNamespace(t, ctx, api, "signet", nil)
		if got := admitPod(t, ctx, api, "signet", "uncovered-"+uniq, uncovered); got != uncovered {
			t.Errorf("stored image %q, want %q", got, uncovered)
		}
	})
}

// waitForWebhooks waits until the API server calls both webhooks: it
// learns of new configurations a moment after they are stored. Dry runs
// (nothing stored) until the signed image comes back pinned and the
// unsigned one is denied.
func waitForWebhooks(t *testing.T, ctx context.Context, api *apiServer, ns, signed, unsigned string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got corev1.Pod
		err := api.create(ctx, podsPath(ns)+"?dryRun=All", pod("probe", signed), &got)
		image := ""
		if len(got.Spec.Containers) == 1 {
			image = got.Spec.Containers[0].Image
		}
		mutating := err == nil && image != signed
		err2 := api.create(ctx, podsPath(ns)+"?dryRun=All", pod("probe", unsigned), nil)
		_, validating := denial(err2)
		if mutating && validating {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server does not call the webhooks within 60s: signed %s: %v (image %q); unsigned %s: %v",
				signed, err, image, unsigned, err2)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// admitPod creates a Pod running image and returns the image the API server
// stored, read back from it.
func admitPod(t *testing.T, ctx context.Context, api *apiServer, ns, name, image string) string {
	t.Helper()
	if err := api.create(ctx, podsPath(ns), pod(name, image), nil); err != nil {
		t.Fatalf("creating a pod with %s: %v", image, err)
	}
	var got corev1.Pod
	if err := api.get(ctx, podsPath(ns)+"/"+name, &got); err != nil {
		t.Fatalf("reading pod %s back: %v", name, err)
	}
	return got.Spec.Containers[0].Image
}

// denyPod creates a Pod running image, which the webhook must deny: the API
// server answers with the webhook's message, returned, and stores nothing.
func denyPod(t *testing.T, ctx context.Context, api *apiServer, ns, name, image string) string {
	t.Helper()
	err := api.create(ctx, podsPath(ns), pod(name, image), nil)
	msg := expectDenied(t, err, image)
	expectAbsent(t, ctx, api, podsPath(ns)+"/"+name)
	return msg
}

func expectDenied(t *testing.T, err error, image string) string {
	t.Helper()
	msg, ok := denial(err)
	switch {
	case err == nil:
		t.Errorf("%s admitted, want denied", image)
	case !ok:
		t.Errorf("%s: %v, want a denial", image, err)
	case !strings.Contains(msg, "admission webhook") || !strings.Contains(msg, image):
		t.Errorf("%s denied with %q, want the webhook's message naming the image", image, msg)
	default:
		t.Logf("denied: %s", msg)
	}
	return msg
}

func expectAbsent(t *testing.T, ctx context.Context, api *apiServer, path string) {
	t.Helper()
	err := api.get(ctx, path, nil)
	if err == nil {
		t.Errorf("%s was stored", path)
	} else if ae, ok := err.(*apiError); !ok || ae.code != 404 {
		t.Errorf("reading %s: %v, want 404", path, err)
	}
}

func podsPath(ns string) string        { return "/api/v1/namespaces/" + ns + "/pods" }
func deploymentsPath(ns string) string { return "/apis/apps/v1/namespaces/" + ns + "/deployments" }

func podSpec(image string) corev1.PodSpec {
	no := false
	return corev1.PodSpec{
		AutomountServiceAccountToken: &no,
		Containers:                   []corev1.Container{{Name: "app", Image: image}},
	}
}

func pod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       podSpec(image),
	}
}

func deployment(name, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec(image),
			},
		},
	}
}

// createNamespace creates ns with labels, if it is not there yet, and the
// service account "default" its Pods run as: without a controller manager,
// nothing else makes it, and the ServiceAccount admission plugin refuses
// Pods without it.
func createNamespace(t *testing.T, ctx context.Context, api *apiServer, ns string, labels map[string]string) {
	t.Helper()
	objs := []struct {
		path string
		obj  any
	}{
		{"/api/v1/namespaces", &corev1.Namespace{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}},
		{"/api/v1/namespaces/" + ns + "/serviceaccounts", &corev1.ServiceAccount{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: metav1.ObjectMeta{Name: "default"}}},
	}
	for _, o := range objs {
		err := api.create(ctx, o.path, o.obj, nil)
		if ae, ok := err.(*apiError); ok && ae.code == 409 {
			continue
		}
		if err != nil {
			t.Fatalf("creating %s: %v", o.path, err)
		}
	}
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
