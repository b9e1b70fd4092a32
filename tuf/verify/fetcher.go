package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/signet-dev/signet/tuf/tufmeta"
)

// fetchBaseURL is the metadata URL the updater is configured with. It names
// no server: fetchView maps the last element of each URL to a View file.
const fetchBaseURL = "signet:///metadata/"

// fetchView is a go-tuf fetcher over one View. It remembers the last file
// the updater asked for, so that a failure can be explained in terms of the
// file being verified (see attacks.go). Like the updater it serves,
// it is not safe for concurrent use.
type fetchView struct {
	ctx   context.Context
	view  tufmeta.View
	files map[string]bool
	pre   *prefetch // files read ahead, or nil

	lastName string // the last file asked for
	lastData []byte // its content, or nil when it could not be read
}

var _ fetcher.Fetcher = (*fetchView)(nil)

func newFetchView(ctx context.Context, view tufmeta.View) *fetchView {
	files := make(map[string]bool)
	for _, name := range view.Files() {
		files[name] = true
	}
	return &fetchView{ctx: ctx, view: view, files: files}
}

// fetchError is a failure to read a file of the View (a registry or network
// problem). It keeps the View's own error kind: Target never marks it.
type fetchError struct {
	name string
	err  error
}

func (e *fetchError) Error() string { return fmt.Sprintf("reading %s: %v", e.name, e.err) }
func (e *fetchError) Unwrap() error { return e.err }

// DownloadFile implements fetcher.Fetcher. A file missing from the View is
// reported as HTTP 404, which is how the updater learns that the root chain
// ends; a file over maxLength is refused as go-tuf's own fetcher does.
func (f *fetchView) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	f.lastName, f.lastData = "", nil
	rest, ok := strings.CutPrefix(urlPath, fetchBaseURL)
	if !ok {
		return nil, &metadata.ErrValue{Msg: fmt.Sprintf("unexpected metadata url %q", urlPath)}
	}
	name, err := url.PathUnescape(rest)
	if err != nil || name == "" || strings.Contains(name, "/") {
		return nil, &metadata.ErrValue{Msg: fmt.Sprintf("unexpected metadata url %q", urlPath)}
	}
	f.lastName = name
	if err := f.ctx.Err(); err != nil {
		return nil, &fetchError{name: name, err: err}
	}
	if !f.files[name] {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: http.StatusNotFound, URL: name}
	}
	// Read up to the role's bound even when a listed length is smaller, so
	// that a file longer than listed is a verification failure (tampered or
	// mixed in) rather than a read error of the view.
	limit := max(maxLength, fetchRoleMax(name))
	data, ok := f.pre.get(name)
	if !ok {
		var err error
		if data, err = f.view.ReadFile(f.ctx, name, limit); err != nil {
			return nil, &fetchError{name: name, err: err}
		}
	}
	if int64(len(data)) > limit {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is larger than the %d bytes allowed", name, limit)}
	}
	f.lastData = data
	if int64(len(data)) > maxLength {
		return nil, &metadata.ErrLengthOrHashMismatch{Msg: fmt.Sprintf("%s is %d bytes, not the %d listed", name, len(data), maxLength)}
	}
	return data, nil
}

// fetchRoleMax is the size bound of a metadata file by its role.
func fetchRoleMax(name string) int64 {
	switch role, _ := fetchRole(name); role {
	case metadata.ROOT:
		return rootMaxLength
	case metadata.TIMESTAMP:
		return timestampMaxLength
	case metadata.SNAPSHOT:
		return snapshotMaxLength
	default:
		return targetsMaxLength
	}
}

// fetchRole returns the role and version a file name stands for:
// "3.root.json" is (root, 3), "timestamp.json" is (timestamp, 0) and
// "2.ci.json" is (ci, 2).
func fetchRole(name string) (role string, version int64) {
	base := strings.TrimSuffix(name, ".json")
	if prefix, rest, ok := strings.Cut(base, "."); ok {
		if v, err := strconv.ParseInt(prefix, 10, 64); err == nil {
			return rest, v
		}
	}
	return base, 0
}
