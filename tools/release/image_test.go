package release

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestImageRunsSignetAndIsSignedAndVerifiedBySignet writes the image layout
// of make image, inspects what its entrypoint runs, then pushes it to the
// distribution registry and signs and verifies it with the static signet.
func TestImageRunsSignetAndIsSignedAndVerifiedBySignet(t *testing.T) {
	reg := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	dir, _, info := needDist(t)
	certs := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(certs); err != nil {
		t.Fatalf("CA certificates for the image: %v", err)
	}
	imageDir := filepath.Join(t.TempDir(), "image")
	if err := WriteImage(imageDir, dir, certs, info); err != nil {
		t.Fatal(err)
	}

	idx, err := layout.ImageIndexFromPath(imageDir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Manifests) != 1 || top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != info.Version {
		t.Fatalf("layout index = %+v, want one image named %s", top.Manifests, info.Version)
	}
	multi, err := idx.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := multi.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(ImageTargets) {
		t.Fatalf("%d platforms, want %d", len(im.Manifests), len(ImageTargets))
	}
	for _, d := range im.Manifests {
		img, err := multi.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		plat := cf.OS + "/" + cf.Architecture
		if d.Platform == nil || d.Platform.OS+"/"+d.Platform.Architecture != plat {
			t.Errorf("index says %v for a %s config", d.Platform, plat)
		}
		if strings.Join(cf.Config.Entrypoint, " ") != ImageEntrypoint {
			t.Errorf("%s: entrypoint %q", plat, cf.Config.Entrypoint)
		}
		if cf.Config.Labels["org.opencontainers.image.version"] != info.Version || cf.Config.Labels["org.opencontainers.image.source"] != Source {
			t.Errorf("%s: labels %v", plat, cf.Config.Labels)
		}
		bin := fileInImage(t, img, ImageEntrypoint)
		if fileInImage(t, img, "/"+imageCACerts) == nil {
			t.Errorf("%s: no CA certificates", plat)
		}
		// No container runtime is assumed: run the entrypoint's file
		// directly where the platform is this machine's.
		if plat != runtime.GOOS+"/"+runtime.GOARCH {
			continue
		}
		exe := filepath.Join(t.TempDir(), "signet")
		if err := os.WriteFile(exe, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(exe, "version", "-o", "json").Output()
		if err != nil {
			t.Fatalf("the image's entrypoint does not run: %v", err)
		}
		var v struct {
			Version  string
			Platform string
			YubiKey  bool
		}
		if err := json.Unmarshal(out, &v); err != nil || v.Version != info.Version || v.Platform != plat || v.YubiKey {
			t.Errorf("the entrypoint says %s (%v); want signet %s for %s without YubiKey support", out, err, info.Version, plat)
		}
	}

	// signet's own image, signed by signet: the static build pushes it (a
	// push signs) and verifies it against the registry.
	signet := filepath.Join(BinDir(dir, Target{OS: runtime.GOOS, Arch: runtime.GOARCH}), "signet")
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(signet, args...)
		cmd.Dir = home
		cmd.Env = append(os.Environ(), "SIGNET_HOME="+filepath.Join(home, ".signet"), "SIGNET_PASSPHRASE=release test passphrase")
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("signet %s: %v: %s", strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	repo := reg + "/release/signet-" + hex.EncodeToString(suffix)
	run("key", "generate", "root", "--out", "root.pub")
	run("init", repo, "--root-key", "root", "--no-input")
	run("push", "oci:"+imageDir, repo+":"+info.Version, "--no-input")
	if got := run("verify", repo+":"+info.Version, "--no-input"); got != top.Manifests[0].Digest.String() {
		t.Fatalf("verify printed %q, want the image index digest %s", got, top.Manifests[0].Digest)
	}
}

// fileInImage returns the file at path in img's layers, nil when absent.
func fileInImage(t *testing.T, img v1.Image, path string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if "/"+strings.TrimPrefix(h.Name, "/") == path {
				data, err := io.ReadAll(tr)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
		}
		rc.Close()
	}
	return nil
}
