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
	"slices"
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

// Invocation is how docker started signet as its plugin.
type Invocation struct {
	// DockerArgs are docker's global options given before the plugin name
	// (`docker -H HOST signet ...` runs `docker-signet -H HOST signet ...`):
	// every docker that signet runs gets them too, so it talks to the same
	// daemon, context and config.
	DockerArgs []string
}

// PluginArgs tells whether signet was started as the docker plugin, and
// returns its arguments as signet's own. argv0 is the name it was started
// under, args the arguments after it, env the environment. docker runs a
// plugin as `docker-signet [DOCKER GLOBAL OPTIONS] signet ARGS`, with
// EnvOriginalCLI set: PluginArgs then returns ARGS and the docker options.
// An executable named docker-signet is the plugin whatever its arguments
// (run by hand, or asked for its metadata). Otherwise inv is nil and args
// are returned as they are.
func PluginArgs(argv0 string, args []string, env func(string) string) (rest []string, inv *Invocation) {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	named := base == "docker-"+PluginName
	if globals, after, ok := splitDockerGlobals(args); ok && (named || env(EnvOriginalCLI) != "") {
		return after, &Invocation{DockerArgs: globals}
	}
	if named {
		return args, &Invocation{}
	}
	return args, nil
}

// dockerValueFlags are docker's global options that take a value.
var dockerValueFlags = map[string]bool{
	"--config": true, "-c": true, "--context": true, "-H": true, "--host": true,
	"-l": true, "--log-level": true, "--tlscacert": true, "--tlscert": true, "--tlskey": true,
}

// splitDockerGlobals splits `[DOCKER GLOBAL OPTIONS] signet ARGS` into the
// options and ARGS; ok is false when args are not of that shape.
func splitDockerGlobals(args []string) (globals, rest []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == PluginName:
			return args[:i:i], args[i+1:], true
		case !strings.HasPrefix(a, "-") || a == "-" || a == "--":
			return nil, args, false
		case dockerValueFlags[a]:
			i++ // --host VALUE, -H VALUE
		}
	}
	return nil, args, false
}

// CLI runs one docker executable.
type CLI struct {
	// Path is the docker executable.
	Path string
	// Args come before the arguments of every run: docker's global
	// options (Invocation.DockerArgs).
	Args []string
	// Status receives docker's standard output (progress); Stderr its
	// standard error. Both are the user's stderr in signet.
	Status, Stderr io.Writer
}

// Find returns the docker CLI to run: the one that ran signet as its plugin
// (EnvOriginalCLI), else docker on PATH (lookPath is exec.LookPath).
// Every run gets the global options args first.
func Find(env func(string) string, lookPath func(string) (string, error), args []string, status, stderr io.Writer) (*CLI, error) {
	path := env(EnvOriginalCLI)
	if path == "" {
		p, err := lookPath("docker")
		if err != nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("no docker command line on PATH: install docker, or run signet as docker signet"))
		}
		path = p
	}
	return &CLI{Path: path, Args: args, Status: status, Stderr: stderr}, nil
}

// waitDelay bounds how long Run waits for docker's output to end once docker
// exited or was killed (a child it left behind may hold the pipe).
const waitDelay = 5 * time.Second

// Run runs docker with args in signet's own environment, so DOCKER_HOST,
// DOCKER_CONTEXT and DOCKER_CONFIG reach it untouched. Its standard output
// goes to Status and, when out is not nil, to out as well; its standard
// error to Stderr. docker is killed when ctx ends.
func (c *CLI) Run(ctx context.Context, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, c.Path, append(slices.Clip(c.Args), args...)...)
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
