package admission_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// readManifest decodes deploy/FILE strictly (an unknown field is a typo
// the API server would drop) into each of objs, one per YAML document.
func readManifest(t *testing.T, file string, objs ...any) {
	t.Helper()
	data, err := os.ReadFile("../deploy/" + file)
	if err != nil {
		t.Fatal(err)
	}
	// The caBundle placeholder is not base64 on purpose: applied as it
	// is, the configuration is refused rather than failing every call.
	data = bytes.ReplaceAll(data, []byte("REPLACE_WITH_BASE64_CA_PEM"), []byte("Cg=="))
	docs := bytes.Split(data, []byte("\n---\n"))
	if len(docs) != len(objs) {
		t.Fatalf("%s has %d documents, want %d", file, len(docs), len(objs))
	}
	for i, doc := range docs {
		if err := yaml.UnmarshalStrict(doc, objs[i]); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
	}
}

func TestDeployedWebhooksFailClosedAndLeaveTheirOwnNamespaceOut(t *testing.T) {
	var m admissionregistrationv1.MutatingWebhookConfiguration
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	readManifest(t, "webhooks.yaml", &m, &v)
	type hook struct {
		path    string
		service *admissionregistrationv1.ServiceReference
		fail    *admissionregistrationv1.FailurePolicyType
		side    *admissionregistrationv1.SideEffectClass
		timeout *int32
		rules   []admissionregistrationv1.RuleWithOperations
		ns      string
		reviews []string
	}
	if len(m.Webhooks) != 1 || len(v.Webhooks) != 1 {
		t.Fatalf("want one webhook each: %d mutating, %d validating", len(m.Webhooks), len(v.Webhooks))
	}
	mw, vw := m.Webhooks[0], v.Webhooks[0]
	for _, h := range []hook{
		{"/mutate", mw.ClientConfig.Service, mw.FailurePolicy, mw.SideEffects, mw.TimeoutSeconds, mw.Rules, mw.NamespaceSelector.String(), mw.AdmissionReviewVersions},
		{"/validate", vw.ClientConfig.Service, vw.FailurePolicy, vw.SideEffects, vw.TimeoutSeconds, vw.Rules, vw.NamespaceSelector.String(), vw.AdmissionReviewVersions},
	} {
		if h.service == nil || h.service.Path == nil || *h.service.Path != h.path || h.service.Name != "signet-admission" || h.service.Namespace != "signet" {
			t.Fatalf("%s: service %+v", h.path, h.service)
		}
		if h.fail == nil || *h.fail != admissionregistrationv1.Fail || h.side == nil || *h.side != admissionregistrationv1.SideEffectClassNone ||
			h.timeout == nil || *h.timeout != 10 || !slices.Equal(h.reviews, []string{"v1"}) {
			t.Fatalf("%s: failurePolicy %v sideEffects %v timeoutSeconds %v versions %v", h.path, h.fail, h.side, h.timeout, h.reviews)
		}
		if !strings.Contains(h.ns, "NotIn") || !strings.Contains(h.ns, "signet") || !strings.Contains(h.ns, "kube-system") {
			t.Fatalf("%s: namespaceSelector %s does not leave signet and kube-system out", h.path, h.ns)
		}
		var resources []string
		for _, r := range h.rules {
			resources = append(resources, r.Resources...)
		}
		for _, want := range []string{"pods", "pods/ephemeralcontainers", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs"} {
			if !slices.Contains(resources, want) {
				t.Fatalf("%s: rules miss %s: %v", h.path, want, resources)
			}
		}
	}
}

func TestDeployedServerRunsNonRootWithAReadOnlyRootAndTheDocumentedFlags(t *testing.T) {
	var d appsv1.Deployment
	readManifest(t, "deployment.yaml", &d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
		c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Fatalf("security context: pod %+v container %+v", pod.SecurityContext, c.SecurityContext)
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Fatalf("resources: %+v", c.Resources)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"admission serve", "--addr=", "--tls-cert=", "--tls-key=", "--policy=", "--home="} {
		if !strings.Contains(args, want) {
			t.Fatalf("args %q miss %q", args, want)
		}
	}
}
