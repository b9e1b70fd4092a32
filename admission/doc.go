// Package admission is signet's Kubernetes admission webhook: it answers
// the API server's AdmissionReview v1 requests for Pods and for the pod
// templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs
// and CronJobs, checking every container image against the TUF trust
// data of its repository, from the root that a Policy pins for it.
//
// Two endpoints share one Checker: the mutating one pins each verified tag
// reference to the digest signed for it (REPO:TAG@sha256:…) with a JSON
// patch, and denies what fails; the validating one denies an object when
// any image fails, and accepts a pinned reference only when its digest is
// the one signed for its tag. Verification is internal/app's (the same as
// `signet verify --root FILE`), with its trust data in one signet home and
// its warm-verify memo shared by all requests.
//
// Everything a request carries is hostile: bodies are bounded, messages
// are escaped and one line, and every check has a deadline.
package admission
