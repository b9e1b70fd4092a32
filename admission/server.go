package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/signet-dev/signet/internal/textesc"
)

// MaxReviewBytes bounds an AdmissionReview body: the API server sends at
// most 3 MiB (its request size limit for an object).
const MaxReviewBytes = 3 << 20

// Handler serves the webhook: POST /mutate, POST /validate and GET
// /healthz, logging one line per review through the Checker's log.
type Handler struct {
	c   *Checker
	mux *http.ServeMux
}

// NewHandler returns the webhook's HTTP handler over c.
func NewHandler(c *Checker) *Handler {
	h := &Handler{c: c, mux: http.NewServeMux()}
	h.mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) { h.review(w, r, true) })
	h.mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) { h.review(w, r, false) })
	h.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// review answers one AdmissionReview: mutate pins verified tags and denies
// what fails; validate only denies what fails.
func (h *Handler) review(w http.ResponseWriter, r *http.Request, mutate bool) {
	start := time.Now()
	if r.Method != http.MethodPost {
		h.c.logf("%s: refused method %s from %s", r.URL.Path, line(r.Method), line(r.RemoteAddr))
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReviewBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.c.logf("%s: refused a body over %d bytes", r.URL.Path, MaxReviewBytes)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.c.logf("%s: reading the body from %s: %s", r.URL.Path, line(r.RemoteAddr), line(err.Error()))
		http.Error(w, "reading the request body", http.StatusBadRequest)
		return
	}
	var in admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &in); err != nil || in.Request == nil ||
		in.APIVersion != admissionv1.SchemeGroupVersion.String() || in.Kind != "AdmissionReview" {
		h.c.logf("%s: malformed AdmissionReview from %s", r.URL.Path, line(r.RemoteAddr))
		http.Error(w, "want an admission.k8s.io/v1 AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	resp, summary, err := h.decide(r.Context(), in.Request, mutate)
	if err != nil {
		h.c.logf("%s: %s: %s", r.URL.Path, describe(in.Request), line(err.Error()))
		http.Error(w, "malformed object in the AdmissionReview", http.StatusBadRequest)
		return
	}
	resp.UID = in.Request.UID
	out := admissionv1.AdmissionReview{TypeMeta: in.TypeMeta, Response: resp}
	data, err := json.Marshal(out)
	if err != nil {
		http.Error(w, "encoding the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
	h.c.logf("%s: %s: %s in %s", r.URL.Path, describe(in.Request), summary, time.Since(start).Round(time.Millisecond))
}

// describe names the object of a request for the log: kind namespace/name
// uid, escaped.
func describe(req *admissionv1.AdmissionRequest) string {
	name := req.Name
	if req.Namespace != "" {
		name = req.Namespace + "/" + name
	}
	return line(fmt.Sprintf("%s %s %s %s", req.Operation, req.Kind.Kind, name, req.UID))
}

// decide checks the images of the request's object. An error means the
// object could not be decoded.
func (h *Handler) decide(ctx context.Context, req *admissionv1.AdmissionRequest, mutate bool) (*admissionv1.AdmissionResponse, string, error) {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow, "allowed (" + line(string(req.Operation)) + " is not checked)", nil
	}
	spec, at, ok, err := podSpecOf(req.Kind, req.Object.Raw)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return allow, "allowed (a kind signet does not check)", nil
	}
	if mutate && req.Kind.Kind != "Pod" && madeByAController(req.Object.Raw) {
		// A ReplicaSet a Deployment made must keep its owner's template:
		// pinned, it differs, and the Deployment makes another, without
		// end. Its owner was checked when it was written; the copy is
		// checked and left as it is.
		mutate = false
	}
	list := containers(spec, at)
	if req.Operation == admissionv1.Update {
		if list, err = changed(req, list); err != nil {
			return nil, "", err
		}
	}
	verdicts := h.checkAll(ctx, list)
	var patch []patchOp
	covered := 0
	for i, v := range verdicts {
		if v.Err != nil {
			msg := "signet: image " + line(v.Image) + ": " + line(v.Err.Error())
			return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{
				Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg,
			}}, "denied: " + msg, nil
		}
		if v.Covered {
			covered++
		}
		if mutate && v.Pin != "" {
			patch = append(patch, patchOp{Op: "replace", Path: list[i].path, Value: v.Pin})
		}
	}
	summary := fmt.Sprintf("allowed (%d images checked, %d covered by a rule, %d pinned)", len(list), covered, len(patch))
	if len(patch) > 0 {
		data, err := json.Marshal(patch)
		if err != nil {
			return nil, "", err
		}
		pt := admissionv1.PatchTypeJSONPatch
		allow.Patch, allow.PatchType = data, &pt
	}
	return allow, summary, nil
}

// madeByAController reports whether raw is an object whose owner
// references name a controller (a ReplicaSet of a Deployment, a Job of a
// CronJob), made from the owner's template.
func madeByAController(raw []byte) bool {
	var obj struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	return json.Unmarshal(raw, &obj) == nil && metav1.GetControllerOfNoCopy(&obj.Metadata) != nil
}

// changed drops from list the images an update leaves as they were (same
// field, same reference): they were admitted when they were set, and a
// metadata change, such as a finalizer removed while the registry is
// down, must not depend on the registry.
func changed(req *admissionv1.AdmissionRequest, list []container) ([]container, error) {
	if len(req.OldObject.Raw) == 0 {
		return list, nil
	}
	spec, at, _, err := podSpecOf(req.Kind, req.OldObject.Raw)
	if err != nil {
		return nil, err
	}
	before := map[string]string{}
	for _, c := range containers(spec, at) {
		before[c.path] = c.image
	}
	var out []container
	for _, c := range list {
		if old, ok := before[c.path]; !ok || old != c.image {
			out = append(out, c)
		}
	}
	return out, nil
}

// checkAll checks each distinct image once, at most the Checker's
// parallel bound at a time, and returns one verdict per container. All
// the checks of one review share one deadline, the check timeout: checks
// waiting for a turn do not push the answer past the apiserver's timeout,
// whose message would replace signet's reasons.
func (h *Handler) checkAll(ctx context.Context, list []container) []Verdict {
	ctx, cancel := context.WithTimeout(ctx, h.c.o.timeout)
	defer cancel()
	index := map[string]int{}
	var images []string
	for _, c := range list {
		if _, ok := index[c.image]; !ok {
			index[c.image] = len(images)
			images = append(images, c.image)
		}
	}
	verdicts := make([]Verdict, len(images))
	var wg sync.WaitGroup
	sem := make(chan struct{}, h.c.o.parallel)
	for i, image := range images {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			verdicts[i] = h.c.Check(ctx, image)
		}()
	}
	wg.Wait()
	out := make([]Verdict, len(list))
	for i, c := range list {
		out[i] = verdicts[index[c.image]]
	}
	return out
}

// line makes text from outside one escaped line.
func line(s string) string {
	return textesc.String(strings.Join(strings.Fields(s), " "))
}
