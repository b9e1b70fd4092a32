package kube

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestDeployManifestsPassTheAPIServersStrictValidation sends every object
// of deploy/*.yaml to the real API server as a strict dry run (unknown or
// duplicate fields are errors; nothing is stored), with the caBundle
// placeholder replaced by a real CA: the manifests a user applies are ones
// this Kubernetes accepts.
func TestDeployManifestsPassTheAPIServersStrictValidation(t *testing.T) {
	api := newAPIServer(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no deploy/*.yaml in this tree")
	}
	ctx := t.Context()
	// Dry runs of namespaced objects need their namespace to exist.
	createNamespace(t, ctx, api, "signet", nil)
	caPEM, err := os.ReadFile(need(t, "SIGNET_TEST_KUBE_CA"))
	if err != nil {
		t.Fatal(err)
	}
	ca := base64.StdEncoding.EncodeToString(caPEM)

	// The plural resource of each kind deploy/ uses.
	resources := map[string]string{
		"Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets",
		"Service": "services", "ServiceAccount": "serviceaccounts", "Deployment": "deployments",
		"MutatingWebhookConfiguration":   "mutatingwebhookconfigurations",
		"ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
		"PodDisruptionBudget":            "poddisruptionbudgets",
		"NetworkPolicy":                  "networkpolicies",
	}
	sent := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "REPLACE_WITH_BASE64_CA_PEM", ca)
		for i, doc := range strings.Split(text, "\n---") {
			js, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Errorf("%s, document %d: %v", file, i+1, err)
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(js, &head); err != nil || head.Kind == "" ||
				strings.HasPrefix(head.APIVersion, "kustomize.config.k8s.io/") {
				continue // comments only, or kustomize's own file
			}
			res, ok := resources[head.Kind]
			if !ok {
				t.Errorf("%s: kind %s: add its resource to this test", file, head.Kind)
				continue
			}
			path := "/apis/" + head.APIVersion + "/"
			if !strings.Contains(head.APIVersion, "/") {
				path = "/api/" + head.APIVersion + "/"
			}
			if head.Metadata.Namespace != "" {
				path += "namespaces/" + head.Metadata.Namespace + "/"
			}
			err = api.create(ctx, path+res+"?dryRun=All&fieldValidation=Strict", json.RawMessage(js), nil)
			if ae, ok := err.(*apiError); ok && ae.code == 409 && head.Kind == "Namespace" {
				err = nil // made above, for the others' dry runs
			}
			if err != nil {
				t.Errorf("%s: %s %s: %v", file, head.Kind, head.Metadata.Name, err)
			}
			sent++
		}
	}
	if sent == 0 {
		t.Fatal("no Kubernetes object found in deploy/*.yaml")
	}
	t.Logf("%d objects of deploy/ accepted", sent)
}
