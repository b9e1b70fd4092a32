package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ggcr "github.com/google/go-containerregistry/pkg/registry"

	"github.com/signet-dev/signet/internal/atomicfile"
)

// maxServedManifest bounds the manifests the embedded registry accepts.
const maxServedManifest = 4 << 20

// persistentServer keeps go-containerregistry's registry across restarts:
// blobs through its disk blob handler (DIR/blobs), and manifests, which it
// keeps only in memory, as content-addressed files (DIR/manifests) plus a
// journal of tag and manifest changes (DIR/journal.jsonl) that is replayed
// into a fresh registry at start.
type persistentServer struct {
	inner http.Handler
	dir   string
	log   *log.Logger
	mu    sync.Mutex // orders manifest changes with their journal lines
}

// journalEntry is one applied manifest change.
type journalEntry struct {
	Op        string `json:"op"` // "put" or "delete"
	Repo      string `json:"repo"`
	Ref       string `json:"ref"`
	Digest    string `json:"digest,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
}

func newPersistentServer(dir string, l *log.Logger) (*persistentServer, error) {
	for _, d := range []string{dir, filepath.Join(dir, "blobs"), filepath.Join(dir, "manifests")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("registry server: %w", err)
		}
	}
	s := &persistentServer{
		inner: ggcr.New(ggcr.Logger(l), ggcr.WithBlobHandler(ggcr.NewDiskBlobHandler(filepath.Join(dir, "blobs")))),
		dir:   dir,
		log:   l,
	}
	if err := s.replay(); err != nil {
		return nil, fmt.Errorf("registry server: restoring manifests from %s: %w", dir, err)
	}
	return s, nil
}

// manifestPath splits /v2/REPO/manifests/REF.
func manifestPath(p string) (repo, ref string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i <= 0 {
		return "", "", false
	}
	repo, ref = rest[:i], rest[i+len("/manifests/"):]
	return repo, ref, ref != "" && !strings.Contains(ref, "/")
}

func (s *persistentServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	repo, ref, ok := manifestPath(req.URL.Path)
	if !ok || (req.Method != http.MethodPut && req.Method != http.MethodDelete) {
		s.inner.ServeHTTP(w, req)
		return
	}
	var body []byte
	if req.Method == http.MethodPut {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxServedManifest+1))
		if err != nil {
			http.Error(w, "reading manifest", http.StatusBadRequest)
			return
		}
		if len(b) > maxServedManifest {
			http.Error(w, "manifest too large", http.StatusRequestEntityTooLarge)
			return
		}
		body = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &bufferWriter{header: http.Header{}}
	s.inner.ServeHTTP(rec, req)
	var err error
	switch {
	case req.Method == http.MethodPut && rec.status == http.StatusCreated:
		err = s.record(journalEntry{Op: "put", Repo: repo, Ref: ref, MediaType: req.Header.Get("Content-Type")}, body)
	case req.Method == http.MethodDelete && rec.status == http.StatusAccepted:
		err = s.record(journalEntry{Op: "delete", Repo: repo, Ref: ref}, nil)
	}
	if err != nil {
		// Served from memory but lost at restart: the client must know.
		s.log.Printf("persisting %s %s:%s: %v", req.Method, repo, ref, err)
		http.Error(w, "registry could not persist the change", http.StatusInternalServerError)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// record stores manifest b (for a put) and appends e to the journal.
func (s *persistentServer) record(e journalEntry, b []byte) error {
	if e.Op == "put" {
		sum := sha256.Sum256(b)
		e.Digest = "sha256:" + hex.EncodeToString(sum[:])
		if err := atomicfile.Write(filepath.Join(s.dir, "manifests", hex.EncodeToString(sum[:])), b, 0o600, true); err != nil {
			return err
		}
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "journal.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// replay applies the journal to the fresh in-memory registry. A last line
// cut short by a crash is dropped from the journal, so that the next line
// appended starts clean.
func (s *persistentServer) replay() error {
	path := filepath.Join(s.dir, "journal.jsonl")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := bytes.Split(b, []byte("\n"))
	good := 0 // bytes of complete, applied lines
	for n, line := range lines {
		if n == len(lines)-1 {
			break // after the last newline: empty, or torn by a crash
		}
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("journal line %d: %w", n+1, err)
		}
		if err := s.apply(e); err != nil {
			return fmt.Errorf("journal line %d: %w", n+1, err)
		}
		good += len(line) + 1
	}
	if good < len(b) {
		return os.Truncate(path, int64(good))
	}
	return nil
}

func (s *persistentServer) apply(e journalEntry) error {
	u := "/v2/" + e.Repo + "/manifests/" + e.Ref
	var req *http.Request
	switch e.Op {
	case "put":
		hexd, ok := strings.CutPrefix(e.Digest, "sha256:")
		if !ok || strings.ContainsAny(hexd, `/\.`) {
			return fmt.Errorf("bad digest %q", e.Digest)
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "manifests", hexd))
		if err != nil {
			return err
		}
		req, _ = http.NewRequest(http.MethodPut, u, bytes.NewReader(b))
		req.Header.Set("Content-Type", e.MediaType)
	case "delete":
		req, _ = http.NewRequest(http.MethodDelete, u, nil)
	default:
		return fmt.Errorf("unknown operation %q", e.Op)
	}
	rec := &bufferWriter{header: http.Header{}}
	s.inner.ServeHTTP(rec, req)
	if rec.status >= 300 && !(e.Op == "delete" && rec.status == http.StatusNotFound) {
		return fmt.Errorf("%s %s: status %d", e.Op, u, rec.status)
	}
	return nil
}

// bufferWriter keeps a handler's whole response.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
