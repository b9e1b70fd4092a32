package admission

import (
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// container is one image field of an object: where it is (a JSON pointer
// for the patch) and what it says.
type container struct {
	path  string
	image string
}

// podSpecOf decodes raw as the object of kind and returns its pod spec
// with the JSON pointer of that spec; ok is false for a kind that holds no
// pod spec signet checks.
func podSpecOf(kind metav1.GroupVersionKind, raw []byte) (spec *corev1.PodSpec, at string, ok bool, err error) {
	decode := func(obj any) error {
		if err := json.Unmarshal(raw, obj); err != nil {
			return fmt.Errorf("decoding the %s: %w", kind.Kind, err)
		}
		return nil
	}
	const template = "/spec/template/spec"
	switch kind {
	case metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}:
		var o corev1.Pod
		return &o.Spec, "/spec", true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}:
		var o appsv1.Deployment
		return &o.Spec.Template.Spec, template, true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:
		var o appsv1.ReplicaSet
		return &o.Spec.Template.Spec, template, true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}:
		var o appsv1.StatefulSet
		return &o.Spec.Template.Spec, template, true, decode(&o)
	case metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}:
		var o appsv1.DaemonSet
		return &o.Spec.Template.Spec, template, true, decode(&o)
	case metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}:
		var o batchv1.Job
		return &o.Spec.Template.Spec, template, true, decode(&o)
	case metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}:
		var o batchv1.CronJob
		return &o.Spec.JobTemplate.Spec.Template.Spec, "/spec/jobTemplate/spec/template/spec", true, decode(&o)
	}
	return nil, "", false, nil
}

// containers lists every image field of spec, at is spec's JSON pointer.
func containers(spec *corev1.PodSpec, at string) []container {
	var out []container
	for i, c := range spec.InitContainers {
		out = append(out, container{at + "/initContainers/" + strconv.Itoa(i) + "/image", c.Image})
	}
	for i, c := range spec.Containers {
		out = append(out, container{at + "/containers/" + strconv.Itoa(i) + "/image", c.Image})
	}
	for i, c := range spec.EphemeralContainers {
		out = append(out, container{at + "/ephemeralContainers/" + strconv.Itoa(i) + "/image", c.Image})
	}
	return out
}

// patchOp is one operation of a JSON patch (RFC 6902).
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}
