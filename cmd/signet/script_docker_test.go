package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// envDockerHost is where scripts/lib/dockerd.sh says its dockerd listens.
const envDockerHost = "SIGNET_TEST_DOCKER_HOST"

// dockerSetup points a script's docker at the dockerd of scripts/test.sh,
// when there is one: DOCKER_HOST is its socket, DOCKER_CONFIG a directory
// of the script's own ($WORK/.docker, where signet docker install puts the
// plugin), so nothing of the machine's docker is used or changed.
func dockerSetup(env *testscript.Env) {
	if host := os.Getenv(envDockerHost); host != "" {
		env.Setenv("DOCKER_HOST", host)
		env.Setenv("DOCKER_CONFIG", filepath.Join(env.WorkDir, ".docker"))
	}
}

// dockerCondition is [dockerd]: scripts/test.sh started a docker daemon.
// Under `make test` (SIGNET_TEST_REQUIRE_SERVICES=1) its absence is an
// error, not a skip.
func dockerCondition() (bool, error) {
	if os.Getenv(envDockerHost) != "" {
		return true, nil
	}
	if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
		return false, errors.New(envDockerHost + " is not set: scripts/test.sh should have started dockerd")
	}
	return false, nil
}

// cmdDockerImage checks the docker daemon of the script (DOCKER_HOST):
//
//	dockerimage REF FILE   the daemon has REF, and its RepoDigests hold
//	                       REPO@DIGEST for the digest written in FILE
//	! dockerimage REF      the daemon has no image REF
func cmdDockerImage(ts *testscript.TestScript, neg bool, args []string) {
	if (neg && len(args) != 1) || (!neg && len(args) != 2) {
		ts.Fatalf("usage: dockerimage REF FILE | ! dockerimage REF")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", args[0])
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+ts.Getenv("DOCKER_HOST"), "DOCKER_CONFIG="+ts.Getenv("DOCKER_CONFIG"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if neg {
		if err == nil {
			ts.Fatalf("the daemon has %s (RepoDigests %q)", args[0], stdout.String())
		}
		if !strings.Contains(strings.ToLower(stderr.String()), "no such image") {
			ts.Fatalf("docker image inspect %s: %v: %s", args[0], err, stderr.String())
		}
		return
	}
	if err != nil {
		ts.Fatalf("docker image inspect %s: %v: %s", args[0], err, stderr.String())
	}
	digest := strings.TrimSpace(ts.ReadFile(args[1]))
	repo := args[0][:strings.LastIndex(args[0], ":")]
	want := repo + "@" + digest
	for line := range strings.Lines(stdout.String()) {
		if strings.TrimSpace(line) == want {
			return
		}
	}
	ts.Fatalf("RepoDigests of %s are %q, want %s among them", args[0], stdout.String(), want)
}
