package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/tools/mkimage"
)

// image is a pushed manifest, to point more tags at.
type image struct {
	manifest  []byte
	mediaType string
	digest    string
}

// pushImage pushes a new one-layer random image to ref (plain HTTP).
func pushImage(ctx context.Context, ref string) (image, error) {
	img, err := mkimage.New()
	if err != nil {
		return image{}, err
	}
	if err := mkimage.Push(ctx, ref, img); err != nil {
		return image{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return image{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return image{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return image{}, err
	}
	return image{manifest: raw, mediaType: string(mt), digest: d.String()}, nil
}

// putTags points every tag of repo (host/path, plain HTTP) at img with raw
// manifest PUTs, several at a time.
func putTags(ctx context.Context, host, repo string, img image, tags []string) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}
	work := make(chan string)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tag := range work {
				if err := putTag(ctx, client, host, repo, tag, img); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, t := range tags {
		select {
		case work <- t:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func putTag(ctx context.Context, client *http.Client, host, repo, tag string, img image) error {
	url := fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, repo, tag)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(img.manifest))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", img.mediaType)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("tagging %s:%s: %w", repo, tag, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("tagging %s:%s: %s", repo, tag, resp.Status)
	}
	return nil
}

// firstRoot reads 1.root.json from the trust data of repo (host/path):
// the manifest at _tuf, then the layer whose tuf.io/filename names it.
func firstRoot(ctx context.Context, repo string) ([]byte, error) {
	ref, err := name.NewTag(repo+":_tuf", name.Insecure)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if l.Annotations["tuf.io/filename"] != "1.root.json" {
			continue
		}
		layer, err := remote.Layer(ref.Context().Digest(l.Digest.String()), remote.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 10<<20))
	}
	return nil, fmt.Errorf("%s has no 1.root.json", ref)
}
