package registrytest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestTheInProcessRegistryAnswersAndRepositoriesAreUnique(t *testing.T) {
	host := InProcess(t)
	resp, err := http.Get("http://" + host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ = %d", resp.StatusCode)
	}
	a, b := UniqueRepo(t, host), UniqueRepo(t, host)
	if a.Name() == b.Name() || a.RegistryStr() != host || !strings.Contains(a.RepositoryStr(), "theinprocessregistry") {
		t.Fatalf("repositories %s and %s: want two names of this test on %s", a, b, host)
	}
}

func TestWriteLayoutNamesTheImageOnlyWhenAsked(t *testing.T) {
	img := RandomImage(t, 256, 1)
	for ref, want := range map[string]string{"": "", "v1": "v1"} {
		idx, err := layout.ImageIndexFromPath(WriteLayout(t, img, ref))
		if err != nil {
			t.Fatal(err)
		}
		m, err := idx.IndexManifest()
		if err != nil || len(m.Manifests) != 1 {
			t.Fatalf("index %+v, %v", m, err)
		}
		if got := m.Manifests[0].Annotations[refNameAnnotation]; got != want {
			t.Fatalf("ref name %q, want %q", got, want)
		}
	}
}
