package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signet-dev/signet/internal/errkind"
)

// manifestAccept is what every manifest request accepts: distribution
// answers "manifest unknown" for an OCI manifest it was not asked for.
var manifestAccept = strings.Join([]string{
	string(types.OCIManifestSchema1),
	string(types.OCIImageIndex),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestList),
}, ",")

// conn is an authenticated HTTP client for one repository, for the
// requests ggcr's remote package does not bound as signet needs.
type conn struct {
	c         *Client
	repo      name.Repository
	anonymous bool
	push      bool
	http      *http.Client
}

// connect authenticates to repo, for pulling or also for pushing. The
// connection is kept for the client's later calls on repo (one for
// pushing serves pulls too), so a publish does not ping and authenticate
// again between reading the tag and moving it.
func (c *Client) connect(ctx context.Context, repo name.Repository, push bool) (*conn, error) {
	repo, err := c.repo(repo)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	key := repo.Name()
	c.mu.Lock()
	cn, ok := c.conns[key]
	c.mu.Unlock()
	if ok && (cn.push || !push) {
		return cn, nil
	}
	cn, err = c.dial(ctx, repo, push)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.conns[key]; ok && (old.push || !push) {
		return old, nil
	}
	if c.conns == nil {
		c.conns = map[string]*conn{}
	}
	c.conns[key] = cn
	return cn, nil
}

// dial authenticates a new connection to repo.
func (c *Client) dial(ctx context.Context, repo name.Repository, push bool) (*conn, error) {
	a, anon, err := c.auth(ctx, repo)
	if err != nil {
		return nil, err
	}
	scopes := []string{repo.Scope(transport.PullScope)}
	if push {
		scopes = []string{repo.Scope(transport.PushScope)}
	}
	if anon {
		// No credentials: talk to the registry directly and authenticate
		// only if it asks (see lazyAuth).
		rt := newLazyAuth(c.base, repo.Registry, scopes, c.opts.userAgent)
		return &conn{c: c, repo: repo, anonymous: anon, push: push, http: &http.Client{Transport: rt}}, nil
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, a, transport.NewUserAgent(c.base, c.opts.userAgent), scopes)
	if err != nil {
		return nil, fail("connecting to "+repo.RegistryStr(), repo.Registry, anon, err)
	}
	return &conn{c: c, repo: repo, anonymous: anon, push: push, http: &http.Client{Transport: rt}}, nil
}

// fail classifies err from an operation of this connection.
func (cn *conn) fail(what string, err error) error {
	return fail(what, cn.repo.Registry, cn.anonymous, err)
}

func (cn *conn) url(kind, ident string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", cn.repo.Scheme(), cn.repo.RegistryStr(), cn.repo.RepositoryStr(), kind, ident)
}

// do sends a request and checks its status; the caller closes the body.
func (cn *conn) do(ctx context.Context, method, u string, body []byte, header http.Header, want ...int) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := cn.http.Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, want...); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// headManifest returns the descriptor the registry gives for ident (a
// tag or digest) without its content.
func (cn *conn) headManifest(ctx context.Context, ident string) (v1.Descriptor, error) {
	resp, err := cn.do(ctx, http.MethodHead, cn.url("manifests", ident), nil,
		http.Header{"Accept": {manifestAccept}}, http.StatusOK)
	if err != nil {
		return v1.Descriptor{}, err
	}
	resp.Body.Close()
	d, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest"))
	if err != nil || resp.ContentLength < 0 || resp.Header.Get("Content-Type") == "" {
		return v1.Descriptor{}, fmt.Errorf("HEAD %s: incomplete answer", ident)
	}
	return v1.Descriptor{Digest: d, Size: resp.ContentLength, MediaType: types.MediaType(resp.Header.Get("Content-Type"))}, nil
}

// getManifest reads the manifest ident (a tag or digest), at most the
// client's manifest limit, and describes it by its content. A read that
// breaks off is started again (the transport retries the request itself).
func (cn *conn) getManifest(ctx context.Context, ident string) (b []byte, d v1.Descriptor, err error) {
	err = cn.c.retryOp(ctx, func(int) (again bool, err error) {
		b, d, again, err = cn.getManifestOnce(ctx, ident)
		return again, err
	})
	return b, d, err
}

func (cn *conn) getManifestOnce(ctx context.Context, ident string) ([]byte, v1.Descriptor, bool, error) {
	resp, err := cn.do(ctx, http.MethodGet, cn.url("manifests", ident), nil,
		http.Header{"Accept": {manifestAccept}}, http.StatusOK)
	if err != nil {
		return nil, v1.Descriptor{}, false, err
	}
	defer resp.Body.Close()
	return cn.readManifestBody(resp, ident)
}

// readManifestBody reads a manifest response, bounded, and describes it;
// the result says whether a failure may pass on a retry.
func (cn *conn) readManifestBody(resp *http.Response, ident string) ([]byte, v1.Descriptor, bool, error) {
	limit := cn.c.opts.maxManifest
	if resp.ContentLength > limit {
		return nil, v1.Descriptor{}, false, tooLarge("manifest", cn.repo.RegistryStr(), resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, v1.Descriptor{}, transientError(err), err
	}
	if int64(len(b)) > limit {
		return nil, v1.Descriptor{}, false, tooLarge("manifest", cn.repo.RegistryStr(), -1, limit)
	}
	sum := sha256.Sum256(b)
	d := v1.Descriptor{
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
		Size:      int64(len(b)),
		MediaType: types.MediaType(resp.Header.Get("Content-Type")),
	}
	if strings.HasPrefix(ident, "sha256:") && d.Digest.String() != ident {
		return nil, v1.Descriptor{}, false, errkind.Mark(errkind.Verification, fmt.Errorf("manifest %s from %s has digest %s", ident, cn.repo, d.Digest))
	}
	return b, d, false, nil
}

// resolve describes what ident points to now: HEAD, and GET when the
// registry's HEAD answer is unusable.
func (cn *conn) resolve(ctx context.Context, ident string) (v1.Descriptor, error) {
	d, err := cn.headManifest(ctx, ident)
	if err == nil {
		return d, nil
	}
	switch {
	case isNotFound(err), statusOf(err) == http.StatusUnauthorized, statusOf(err) == http.StatusForbidden:
		return v1.Descriptor{}, err
	}
	if ctx.Err() != nil {
		return v1.Descriptor{}, err
	}
	_, d, err = cn.getManifest(ctx, ident)
	return d, err
}

// getBlob reads blob d, which must be exactly d.Size bytes with digest
// d.Digest; it stops reading after d.Size+1 bytes. A read that breaks
// off is started again.
func (cn *conn) getBlob(ctx context.Context, d v1.Descriptor) (b []byte, err error) {
	err = cn.c.retryOp(ctx, func(int) (again bool, err error) {
		b, again, err = cn.getBlobOnce(ctx, d)
		return again, err
	})
	return b, err
}

func (cn *conn) getBlobOnce(ctx context.Context, d v1.Descriptor) ([]byte, bool, error) {
	resp, err := cn.do(ctx, http.MethodGet, cn.url("blobs", d.Digest.String()), nil, nil, http.StatusOK)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > d.Size {
		return nil, false, corrupt(cn.repo, "blob %s is %d bytes, its descriptor says %d", d.Digest, resp.ContentLength, d.Size)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, d.Size+1))
	if err != nil {
		return nil, transientError(err), err
	}
	if int64(len(b)) != d.Size {
		return nil, false, corrupt(cn.repo, "blob %s is not %d bytes as its descriptor says", d.Digest, d.Size)
	}
	sum := sha256.Sum256(b)
	if d.Digest.Algorithm != "sha256" || hex.EncodeToString(sum[:]) != d.Digest.Hex {
		return nil, false, corrupt(cn.repo, "blob %s does not match its digest", d.Digest)
	}
	return b, false, nil
}

// blobExists reports whether the repository has blob h.
func (cn *conn) blobExists(ctx context.Context, h v1.Hash) (bool, error) {
	resp, err := cn.do(ctx, http.MethodHead, cn.url("blobs", h.String()), nil, nil, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// putBlob uploads b as blob h (its sha256). An upload that fails for a
// reason that may pass starts again with a new session, unless the
// registry has the blob by then.
func (cn *conn) putBlob(ctx context.Context, h v1.Hash, b []byte) error {
	return cn.c.retryOp(ctx, func(attempt int) (bool, error) {
		if attempt > 1 {
			if ok, err := cn.blobExists(ctx, h); err == nil && ok {
				return false, nil
			}
		}
		err := cn.uploadBlob(ctx, h, b)
		return transientError(err), err
	})
}

// uploadBlob uploads b as blob h in one request after the upload session
// is opened.
func (cn *conn) uploadBlob(ctx context.Context, h v1.Hash, b []byte) error {
	loc, err := cn.startUpload(ctx)
	if err != nil {
		return err
	}
	return cn.finishUpload(ctx, loc, h, b)
}

// startUpload opens an upload session and returns where to put the blob.
func (cn *conn) startUpload(ctx context.Context) (*url.URL, error) {
	resp, err := cn.do(ctx, http.MethodPost, cn.url("blobs", "uploads/"), nil, nil, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("starting an upload: %w", err)
	}
	return loc, nil
}

// finishUpload uploads b as blob h into the session at loc, in one request.
func (cn *conn) finishUpload(ctx context.Context, loc *url.URL, h v1.Hash, b []byte) error {
	q := loc.Query()
	q.Set("digest", h.String())
	loc.RawQuery = q.Encode()
	resp, err := cn.do(ctx, http.MethodPut, loc.String(), b,
		http.Header{"Content-Type": {"application/octet-stream"}}, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// putManifest puts manifest b of media type mt on ident.
func (cn *conn) putManifest(ctx context.Context, ident string, mt types.MediaType, b []byte) error {
	resp, err := cn.do(ctx, http.MethodPut, cn.url("manifests", url.PathEscape(ident)), b,
		http.Header{"Content-Type": {string(mt)}}, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
