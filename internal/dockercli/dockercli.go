// Package dockercli is signet's side of the docker command line: it runs
// the user's docker (for docker signet pull and push), installs signet as
// the docker CLI plugin docker-signet, and knows the plugin protocol
// (https://github.com/docker/cli/blob/master/docs/extend/cli_plugins.md).
package dockercli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/errkind"
)

// The plugin protocol's names.
const (
	// PluginName is the docker subcommand signet answers as the plugin.
	PluginName = "signet"
	// MetadataCommand is the plugin protocol's first argument asking for
	// the plugin's metadata.
	MetadataCommand = "docker-cli-plugin-metadata"
	// EnvOriginalCLI is set by docker when it runs a plugin: the docker
	// executable that did.
	EnvOriginalCLI = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"
)

// Metadata is the plugin protocol's answer to MetadataCommand.
type Metadata struct {
	SchemaVersion    string
	Vendor           string
	Version          string
	ShortDescription string
	URL              string
}

// NewMetadata returns signet's plugin metadata for signet version version.
func NewMetadata(version string) Metadata {
	return Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "signet",
		Version:          version,
		ShortDescription: "Verify on pull and sign on push with TUF metadata kept in the registry",
		URL:              "https://github.com/signet-dev/signet",
	}
}

// PluginFile is the file name of the plugin executable on this platform.
func PluginFile() string {
	if runtime.GOOS == "windows" {
		return "docker-" + PluginName + ".exe"
	}
	return "docker-" + PluginName
}

// PluginArgs tells whether signet was started as the docker plugin, and
// returns its arguments as signet's own. argv0 is the name it was started
// under, args the arguments after it, env the environment. signet is the
// plugin when its executable is named docker-signet, or when docker ran it
// (EnvOriginalCLI set and the plugin name first); the plugin name docker
// puts first is dropped.
func PluginArgs(argv0 string, args []string, env func(string) string) ([]string, bool) {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	named := base == "docker-"+PluginName
	first := len(args) > 0 && args[0] == PluginName
	if !named && !(first && env(EnvOriginalCLI) != "") {
		return args, false
	}
	if first {
		args = args[1:]
	}
	return args, true
}

// CLI runs one docker executable.
type CLI struct {
	// Path is the docker executable.
	Path string
	// Status receives docker's standard output (progress); Stderr its
	// standard error. Both are the user's stderr in signet.
	Status, Stderr io.Writer
}

// Find returns the docker CLI to run: the one that ran signet as its plugin
// (EnvOriginalCLI), else docker on PATH (lookPath is exec.LookPath).
func Find(env func(string) string, lookPath func(string) (string, error), status, stderr io.Writer) (*CLI, error) {
	path := env(EnvOriginalCLI)
	if path == "" {
		p, err := lookPath("docker")
		if err != nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("no docker command line on PATH: install docker, or run signet as docker signet"))
		}
		path = p
	}
	return &CLI{Path: path, Status: status, Stderr: stderr}, nil
}

// waitDelay bounds how long Run waits for docker's output to end once docker
// exited or was killed (a child it left behind may hold the pipe).
const waitDelay = 5 * time.Second

// Run runs docker with args in signet's own environment, so DOCKER_HOST,
// DOCKER_CONTEXT and DOCKER_CONFIG reach it untouched. Its standard output
// goes to Status and, when out is not nil, to out as well; its standard
// error to Stderr. docker is killed when ctx ends.
func (c *CLI) Run(ctx context.Context, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Stdout = c.Status
	if out != nil {
		cmd.Stdout = io.MultiWriter(c.Status, out)
	}
	cmd.Stderr = c.Stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return fmt.Errorf("running %s: %w", c.Path, err)
	}
	return err
}
