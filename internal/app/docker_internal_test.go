package app

import (
	"strings"
	"testing"
)

func TestDockerNamesFollowDocker(t *testing.T) {
	for in, want := range map[string][2]string{
		"alpine":                          {"alpine:latest", "docker.io/library/alpine"},
		"team/app:v1":                     {"team/app:v1", "docker.io/team/app"},
		"127.0.0.1:5000/team/app":         {"127.0.0.1:5000/team/app:latest", "127.0.0.1:5000/team/app"},
		"registry.example.com:443/a/b:v2": {"registry.example.com:443/a/b:v2", "registry.example.com:443/a/b"},
	} {
		s, tag, err := dockerTagRef(in)
		if err != nil || s != want[0] || dockerRepository(tag) != want[1] {
			t.Errorf("%s: %q, %q, %v; want %q", in, s, dockerRepository(tag), err, want)
		}
	}
}

func TestPushReportReadsTheDigestLineWhereverWritesSplitIt(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	out := "The push refers to repository [r/app]\r\n" + strings.Repeat("y", 3*maxPushLine) + "\n" +
		"v1: digest: " + digest + " size: 523\r\n" +
		"v10: digest: sha256:" + strings.Repeat("0", 64) + " size: 1\n"
	for _, chunk := range []int{1, 7, 4096, len(out)} {
		p := &pushReport{tag: "v1"}
		for rest := out; rest != ""; {
			n := min(chunk, len(rest))
			if _, err := p.Write([]byte(rest[:n])); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		got, err := p.result("r/app:v1")
		if err != nil || got.Digest.String() != digest || got.Size != 523 {
			t.Fatalf("writes of %d bytes: %+v, %v", chunk, got, err)
		}
	}
	p := &pushReport{tag: "v1"}
	_, _ = p.Write([]byte("v1: digest: " + digest + " size: 523\nv1: digest: sha256:" + strings.Repeat("0", 64) + " size: 1"))
	if _, err := p.result("r/app:v1"); err == nil || !strings.Contains(err.Error(), "two digests") {
		t.Fatalf("two reports of the tag: %v", err)
	}
}
