package admission_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// admissionKind is a workload kind with how to build one around a pod
// spec and where that spec sits (for the patch paths).
type admissionKind struct {
	gvk  metav1.GroupVersionKind
	spec string
	make func(corev1.PodSpec) any
}

func template(s corev1.PodSpec) corev1.PodTemplateSpec { return corev1.PodTemplateSpec{Spec: s} }

var kinds = []admissionKind{
	{metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, "/spec", func(s corev1.PodSpec) any { return corev1.Pod{Spec: s} }},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "/spec/template/spec",
		func(s corev1.PodSpec) any {
			return appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: template(s)}}
		}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, "/spec/template/spec",
		func(s corev1.PodSpec) any {
			return appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Template: template(s)}}
		}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, "/spec/template/spec",
		func(s corev1.PodSpec) any {
			return appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: template(s)}}
		}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, "/spec/template/spec",
		func(s corev1.PodSpec) any { return appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: template(s)}} }},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, "/spec/template/spec",
		func(s corev1.PodSpec) any { return batchv1.Job{Spec: batchv1.JobSpec{Template: template(s)}} }},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, "/spec/jobTemplate/spec/template/spec",
		func(s corev1.PodSpec) any {
			return batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: "* * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template(s)}}}}
		}},
}

var podKind = kinds[0]

// podSpec has one init container and the given containers (a test adds
// ephemeral containers where it needs them).
func podSpec(init string, images ...string) corev1.PodSpec {
	s := corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init", Image: init}}}
	for i, im := range images {
		s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: im})
	}
	return s
}

type patchOp struct {
	Op, Path, Value string
}

func decodePatch(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var ops []patchOp
	if err := json.Unmarshal(data, &ops); err != nil {
		t.Fatalf("patch %s: %v", data, err)
	}
	out := map[string]string{}
	for _, op := range ops {
		if op.Op != "replace" {
			t.Fatalf("patch op %q, want replace: %s", op.Op, data)
		}
		out[op.Path] = op.Value
	}
	return out
}

func TestMutatePinsSignedTagsOfEveryWorkloadKindAndValidateAdmitsThePinnedObject(t *testing.T) {
	p := newPublisher(t)
	d1, d2 := p.push("v1"), p.push("v2")
	w := newWebhook(t, p, "deny")
	for _, k := range kinds {
		t.Run(k.gvk.Kind, func(t *testing.T) {
			spec := podSpec(p.repo+":v2", p.repo+":v1", p.repo+":v1")
			spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: p.repo + ":v2"}}}
			resp := w.review(t, "/mutate", k, k.make(spec))
			if !resp.Allowed {
				t.Fatalf("denied: %v", resp.Result)
			}
			if resp.PatchType == nil || *resp.PatchType != "JSONPatch" {
				t.Fatalf("patch type %v, want JSONPatch", resp.PatchType)
			}
			got := decodePatch(t, resp.Patch)
			want := map[string]string{
				k.spec + "/initContainers/0/image":      p.repo + ":v2@" + d2,
				k.spec + "/containers/0/image":          p.repo + ":v1@" + d1,
				k.spec + "/containers/1/image":          p.repo + ":v1@" + d1,
				k.spec + "/ephemeralContainers/0/image": p.repo + ":v2@" + d2,
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("patch\n%v\nwant\n%v", got, want)
			}
			pinned := podSpec(p.repo+":v2@"+d2, p.repo+":v1@"+d1)
			if resp := w.review(t, "/validate", k, k.make(pinned)); !resp.Allowed {
				t.Fatalf("validate denied the pinned object: %v", resp.Result)
			}
		})
	}
}

// wantDenied checks that resp denies, with a one-line message naming what.
func wantDenied(t *testing.T, allowed bool, msg string, words ...string) {
	t.Helper()
	if allowed {
		t.Fatalf("allowed, want a denial saying %q", words)
	}
	if strings.ContainsAny(msg, "\n\r\x1b") {
		t.Fatalf("message is not one escaped line: %q", msg)
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Fatalf("message %q does not say %q", msg, w)
		}
	}
}

func TestMovedTagIsDeniedNamingTheImage(t *testing.T) {
	p := newPublisher(t)
	p.push("v1")
	d2 := p.push("v2")
	p.moveTag("v1", d2)
	w := newWebhook(t, p, "allow")
	for _, path := range []string{"/mutate", "/validate"} {
		resp := w.review(t, path, podKind, corev1.Pod{Spec: podSpec(p.repo+":v2", p.repo+":v1")})
		wantDenied(t, resp.Allowed, resp.Result.Message, "image "+p.repo+":v1", "tag moved")
		if resp.Patch != nil {
			t.Fatalf("%s: a denial carries a patch: %s", path, resp.Patch)
		}
	}
}

func TestUnsignedImageOfADeploymentIsDenied(t *testing.T) {
	p := newPublisher(t)
	p.push("v1")
	p.pushUnsigned("unsigned")
	w := newWebhook(t, p, "allow")
	for _, path := range []string{"/mutate", "/validate"} {
		resp := w.review(t, path, kinds[1], kinds[1].make(podSpec(p.repo+":v1", p.repo+":unsigned")))
		wantDenied(t, resp.Allowed, resp.Result.Message, "image "+p.repo+":unsigned", "not signed")
	}
}

func TestDigestReferences(t *testing.T) {
	p := newPublisher(t)
	d1, d2 := p.push("v1"), p.push("v2")
	dUnsigned := p.pushUnsigned("unsigned")
	w := newWebhook(t, p, "allow")
	for _, path := range []string{"/mutate", "/validate"} {
		t.Run(path, func(t *testing.T) {
			resp := w.review(t, path, podKind, corev1.Pod{Spec: podSpec(p.repo+"@"+d1, p.repo+":v2@"+d2)})
			if !resp.Allowed || resp.Patch != nil {
				t.Fatalf("digests of signed tags: allowed %v, patch %s: %v", resp.Allowed, resp.Patch, resp.Result)
			}
			resp = w.review(t, path, podKind, corev1.Pod{Spec: podSpec(p.repo+"@"+d1, p.repo+"@"+dUnsigned)})
			wantDenied(t, resp.Allowed, resp.Result.Message, "image "+p.repo+"@"+dUnsigned, "not signed for any tag")
			resp = w.review(t, path, podKind, corev1.Pod{Spec: podSpec(p.repo+"@"+d1, p.repo+":v1@"+d2)})
			wantDenied(t, resp.Allowed, resp.Result.Message, "image "+p.repo+":v1@"+d2, "not the digest signed for")
		})
	}
}

func TestUnmatchedImagesFollowThePolicy(t *testing.T) {
	p := newPublisher(t)
	p.push("v1")
	other := "registry.invalid/elsewhere/app:1"
	allow := newWebhook(t, p, "allow")
	resp := allow.review(t, "/mutate", podKind, corev1.Pod{Spec: podSpec(p.repo+":v1", other)})
	if !resp.Allowed {
		t.Fatalf("unmatched: allow denied: %v", resp.Result)
	}
	got := decodePatch(t, resp.Patch)
	if _, pinned := got["/spec/initContainers/0/image"]; len(got) != 1 || !pinned {
		t.Fatalf("patch %v touches the unmatched image or misses the covered one", got)
	}
	if want := "CREATE Pod default/x uid-1: allowed (2 images checked, 1 covered by a rule, 1 pinned)"; !strings.Contains(allow.log.String(), want) {
		t.Fatalf("log does not say %q:\n%s", want, allow.log)
	}
	bad := "registry.invalid/Upper/app:1" // no repository has upper case: the node would read it otherwise
	resp = allow.review(t, "/validate", podKind, corev1.Pod{Spec: podSpec(p.repo+":v1", bad)})
	wantDenied(t, resp.Allowed, resp.Result.Message, "image "+bad, "not an image reference")
	deny := newWebhook(t, p, "deny")
	for _, path := range []string{"/mutate", "/validate"} {
		resp := deny.review(t, path, podKind, corev1.Pod{Spec: podSpec(p.repo+":v1", other)})
		wantDenied(t, resp.Allowed, resp.Result.Message, "image "+other, "no rule")
	}
}

func TestAnUpdateChecksOnlyTheImagesItChanges(t *testing.T) {
	p := newPublisher(t)
	p.push("v1")
	p.pushUnsigned("unsigned")
	w := newWebhook(t, p, "deny")
	// An object admitted before the webhook, or whose tag moved since: a
	// metadata update does not depend on it, a changed image does.
	old := kinds[1].make(podSpec(p.repo+":v1", p.repo+":unsigned"))
	relabelled := kinds[1].make(podSpec(p.repo+":v1", p.repo+":unsigned")).(appsv1.Deployment)
	relabelled.Spec.Template.Labels = map[string]string{"a": "b"}
	if resp := w.update(t, "/validate", kinds[1], old, relabelled); !resp.Allowed {
		t.Fatalf("an update that changes no image was denied: %v", resp.Result)
	}
	swapped := kinds[1].make(podSpec(p.repo+":unsigned", p.repo+":unsigned"))
	resp := w.update(t, "/validate", kinds[1], old, swapped)
	wantDenied(t, resp.Allowed, resp.Result.Message, "image "+p.repo+":unsigned", "not signed")
}

// A ReplicaSet that a Deployment made is checked but never patched: pinned,
// its template would no longer be its Deployment's, which would make
// another ReplicaSet, without end. One nobody owns is pinned as usual.
func TestMutateChecksButDoesNotPinAReplicaSetItsDeploymentMade(t *testing.T) {
	p := newPublisher(t)
	d1 := p.push("v1")
	unsigned := p.pushUnsigned("u1")
	w := newWebhook(t, p, "deny")
	var rs admissionKind
	for _, k := range kinds {
		if k.gvk.Kind == "ReplicaSet" {
			rs = k
		}
	}
	owned := func(image string) appsv1.ReplicaSet {
		obj := rs.make(podSpec(image)).(appsv1.ReplicaSet)
		yes := true
		obj.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "app", UID: "u-1", Controller: &yes}}
		return obj
	}
	resp := w.review(t, "/mutate", rs, owned(p.repo+":v1"))
	if !resp.Allowed || resp.Patch != nil {
		t.Fatalf("owned ReplicaSet: allowed %v, patch %s; want allowed, unpatched", resp.Allowed, resp.Patch)
	}
	resp = w.review(t, "/mutate", rs, owned(p.repo+"@"+unsigned))
	wantDenied(t, resp.Allowed, resp.Result.Message, "not signed for any tag")
	resp = w.review(t, "/mutate", rs, rs.make(podSpec(p.repo+":v1")))
	if got := decodePatch(t, resp.Patch); got[rs.spec+"/initContainers/0/image"] != p.repo+":v1@"+d1 {
		t.Fatalf("a ReplicaSet nobody owns is not pinned: %v", got)
	}
}

// The roots are read with the policy, at start: a root file changed on
// disk afterwards (a ConfigMap updated in place) changes nothing until a
// restart, as the rules do not change either.
func TestRootsAreReadOnceWithThePolicy(t *testing.T) {
	p := newPublisher(t)
	d1 := p.push("v1")
	dir := t.TempDir()
	root := filepath.Join(dir, "roots", "app.json")
	p.writeRoot(root)
	w := startWebhook(t, dir, p.repo, "deny")
	if err := os.WriteFile(root, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{p.repo + ":v1", p.repo + "@" + d1} {
		if resp := w.review(t, "/mutate", podKind, podKind.make(podSpec(image))); !resp.Allowed {
			t.Fatalf("%s denied after its root file changed on disk: %v", image, resp.Result)
		}
	}
}
