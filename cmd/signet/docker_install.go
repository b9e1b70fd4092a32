package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/dockercli"
)

type dockerInstallOptions struct {
	IO   *iostreams
	JSON func() bool
	// Dir is the plugin directory (dockercli.PluginDir).
	Dir func() (string, error)
	// Executable is the running signet, symlinks resolved.
	Executable func() (string, error)

	Copy, Force bool
}

func newDockerInstallCmd(f *factory, runF func(*dockerInstallOptions) error) *cobra.Command {
	opts := &dockerInstallOptions{IO: f.IOStreams, JSON: f.Global.JSON,
		Dir:        func() (string, error) { return dockercli.PluginDir(f.Env) },
		Executable: runningExecutable}
	cmd := &cobra.Command{
		Use:   "install [--copy] [--force]",
		Short: "Install signet as the docker CLI plugin (docker signet)",
		Long: `Put signet in place as the docker CLI plugin docker-signet, in
$DOCKER_CONFIG/cli-plugins (default ~/.docker/cli-plugins): a symlink to
this signet, or a copy of it with --copy (so that the plugin stays when this
signet is moved or deleted). Says on stderr what it did. Running it again
changes nothing; a docker-signet that is not this signet is replaced only
with --force.

Then 'docker signet COMMAND' is 'signet COMMAND', and docker signet pull
and push verify and sign (see 'signet docker --help').`,
		Example: `  signet docker install
  DOCKER_CONFIG=/etc/docker-client signet docker install --copy
  docker signet version`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDockerInstall(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Copy, "copy", false, "install a copy of signet instead of a symlink")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace a docker-signet that is not this signet")
	return cmd
}

// runningExecutable is the path of the running signet, symlinks resolved.
func runningExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the signet executable: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("finding the signet executable: %w", err)
	}
	return exe, nil
}

func runDockerInstall(_ context.Context, opts *dockerInstallOptions) error {
	dir, err := opts.Dir()
	if err != nil {
		return err
	}
	exe, err := opts.Executable()
	if err != nil {
		return err
	}
	res, err := dockercli.Install(dockercli.InstallRequest{Dir: dir, Executable: exe, Copy: opts.Copy, Force: opts.Force})
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	how := "linked %s to %s"
	if res.Copy {
		how = "copied %[2]s to %[1]s"
	}
	switch {
	case !res.Changed:
		how = "%s is already this signet (%s): nothing to do"
	case res.Replaced:
		how = "replaced another docker-signet: " + how
	}
	notice(opts.IO, how+"; docker signet runs it", res.Path, res.Target)
	return nil
}
