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

// workload is a kind whose objects hold a pod spec: where the spec sits
// (a JSON pointer, for the patch) and how to decode one.
type workload struct {
	at     string
	decode func(raw []byte) (*corev1.PodSpec, error)
}

// specIn decodes raw as a T and returns the pod spec spec finds in it.
func specIn[T any](spec func(*T) *corev1.PodSpec) func([]byte) (*corev1.PodSpec, error) {
	return func(raw []byte) (*corev1.PodSpec, error) {
		var obj T
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
		return spec(&obj), nil
	}
}

// workloads are the kinds signet checks.
var workloads = map[metav1.GroupVersionKind]workload{
	{Version: "v1", Kind: "Pod"}: {"/spec", specIn(func(o *corev1.Pod) *corev1.PodSpec { return &o.Spec })},
	{Group: "apps", Version: "v1", Kind: "Deployment"}: {"/spec/template/spec",
		specIn(func(o *appsv1.Deployment) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}: {"/spec/template/spec",
		specIn(func(o *appsv1.ReplicaSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: {"/spec/template/spec",
		specIn(func(o *appsv1.StatefulSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}: {"/spec/template/spec",
		specIn(func(o *appsv1.DaemonSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "batch", Version: "v1", Kind: "Job"}: {"/spec/template/spec",
		specIn(func(o *batchv1.Job) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "batch", Version: "v1", Kind: "CronJob"}: {"/spec/jobTemplate/spec/template/spec",
		specIn(func(o *batchv1.CronJob) *corev1.PodSpec { return &o.Spec.JobTemplate.Spec.Template.Spec })},
}

// podSpecOf decodes raw as the object of kind and returns its pod spec
// with the JSON pointer of that spec; ok is false for a kind that holds no
// pod spec signet checks.
func podSpecOf(kind metav1.GroupVersionKind, raw []byte) (spec *corev1.PodSpec, at string, ok bool, err error) {
	w, ok := workloads[kind]
	if !ok {
		return nil, "", false, nil
	}
	if spec, err = w.decode(raw); err != nil {
		return nil, "", false, fmt.Errorf("decoding the %s: %w", kind.Kind, err)
	}
	return spec, w.at, true, nil
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
