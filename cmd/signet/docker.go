package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/dockercli"
)

func newDockerCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("docker <command>", "Verify on docker pull and sign on docker push (the docker CLI plugin)",
		`Enforce signatures where docker uses images, as DOCKER_CONTENT_TRUST=1 did.
'signet docker install' makes signet the docker CLI plugin docker-signet;
then 'docker signet pull IMAGE:TAG' verifies the tag and pulls the verified
digest into the docker daemon, 'docker signet push IMAGE:TAG' pushes with
docker and signs what it pushed, and every other 'docker signet COMMAND' is
'signet COMMAND'. 'signet docker pull' and 'signet docker push' do the same
without the plugin.

docker is the docker CLI that ran the plugin, else docker on PATH, run in
signet's environment, so DOCKER_HOST, DOCKER_CONTEXT and DOCKER_CONFIG reach
it untouched, and with docker's global options ('docker --context X signet
pull' runs 'docker --context X pull'). Its output is shown on stderr; its
failure exits 4.`)
	cmd.Example = `  signet docker install
  docker signet pull registry.example.com/team/app:v1
  docker signet push registry.example.com/team/app:v2 --key yubikey`
	cmd.AddCommand(
		newDockerInstallCmd(f, nil),
		newDockerPullCmd(f, nil),
		newDockerPushCmd(f, nil),
	)
	return cmd
}

// dockerCLI returns the docker CLI that pull and push run (dockercli.Find),
// with the global options docker ran the plugin with, its output shown on
// signet's stderr.
func (f *factory) dockerCLI() (app.Docker, error) {
	return dockercli.Find(f.Env, exec.LookPath, f.DockerArgs, f.IOStreams.ErrOut, f.IOStreams.ErrOut)
}

// dockerDeps builds what docker pull and push work with.
func dockerDeps(deps func() (*app.Deps, error), docker func() (app.Docker, error)) (*app.Deps, app.Docker, error) {
	d, err := deps()
	if err != nil {
		return nil, nil, err
	}
	cli, err := docker()
	if err != nil {
		return nil, nil, err
	}
	return d, cli, nil
}

type dockerPullOptions struct {
	IO     *iostreams
	JSON   func() bool
	Deps   func() (*app.Deps, error)
	Docker func() (app.Docker, error)

	Request app.DockerPullRequest
}

func newDockerPullCmd(f *factory, runF func(*dockerPullOptions) error) *cobra.Command {
	opts := &dockerPullOptions{IO: f.IOStreams, JSON: f.Global.JSON, Deps: f.appDeps, Docker: f.dockerCLI}
	cmd := &cobra.Command{
		Use:   "pull IMAGE[:TAG] [--root FILE]",
		Short: "Verify a tag, then docker pull its verified digest and tag it",
		Long: `Verify IMAGE:TAG exactly as signet verify does (the tag defaults to latest),
then run 'docker pull REPO@DIGEST' of the verified digest and
'docker tag REPO@DIGEST REPO:TAG', as DOCKER_CONTENT_TRUST=1 did: the
daemon gets what was signed, even if the tag moves in between. When
verification fails (exit 1) docker is not run: nothing is pulled and no
tag is created or moved. Prints the verified digest.

As the docker plugin, 'docker signet pull IMAGE[:TAG]' is this command;
'docker signet pull R:T --to oci:DIR' is signet pull.`,
		Example: `  docker signet pull registry.example.com/team/app:v1
  signet docker pull --root root.json registry.example.com/team/app:v1`,
		Args: exactArgs(1, "IMAGE[:TAG]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Request.Image = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDockerPull(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Request.RootFile, "root", "", "trust this root.json `FILE` (pin) instead of the signet home's")
	return cmd
}

func runDockerPull(ctx context.Context, opts *dockerPullOptions) error {
	d, docker, err := dockerDeps(opts.Deps, opts.Docker)
	if err != nil {
		return err
	}
	res, err := app.DockerPull(ctx, d, docker, opts.Request)
	if err != nil {
		return err
	}
	if opts.JSON() {
		return writeJSON(opts.IO.Out, res)
	}
	fprintf(opts.IO.Out, "%s\n", res.Digest)
	notice(opts.IO, "verified %s (signed by %s, root version %d) and pulled it into docker as %s", res.Tag, res.Role, res.RootVersion, res.Image)
	return nil
}

type dockerPushOptions struct {
	Deps   func() (*app.Deps, error)
	Docker func() (app.Docker, error)
	// Render prints what was signed (renderSigned).
	Render func(*app.SignResult) error

	Request app.DockerPushRequest
}

func newDockerPushCmd(f *factory, runF func(*dockerPushOptions) error) *cobra.Command {
	opts := &dockerPushOptions{Deps: f.appDeps, Docker: f.dockerCLI,
		Render: func(res *app.SignResult) error {
			return renderSigned(f.IOStreams, f.Global.JSON(), "Pushed and signed", res)
		}}
	cmd := &cobra.Command{
		Use:   "push IMAGE[:TAG] [--key REF]",
		Short: "docker push an image, then sign the digest docker pushed",
		Long: `Run 'docker push IMAGE:TAG' (the tag defaults to latest), read the digest
docker reports for the tag ("TAG: digest: sha256:… size: N"), and sign
IMAGE:TAG for that digest in one publish of the trust data, as signet sign
does. What is signed is the manifest the registry serves for the tag,
hashed, and only when it is the digest docker pushed: when the tag points
elsewhere before the trust data is published (someone pushed in between),
nothing is signed and the command exits 1.

docker moves the tag before signet signs, so signet first checks that the
trust data verifies and that the key (--key, or the one at hand) may sign
the tag; when signing still fails after the push (PIN, touch, registry),
the tag points at an image that verify refuses until the push is run
again.

As the docker plugin, 'docker signet push IMAGE[:TAG]' is this command;
'docker signet push SOURCE R:T' is signet push.`,
		Example: `  docker signet push registry.example.com/team/app:v2
  signet docker push registry.example.com/team/app:v2 --key yubikey`,
		Args: exactArgs(1, "IMAGE[:TAG]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Request.Image = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDockerPush(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Request.Key, "key", "", "signing key `REF` (yubikey, yubikey:SERIAL/SLOT, file:PATH, env:VAR or a keystore name)")
	addTrustedRootFlag(cmd, f)
	return cmd
}

func runDockerPush(ctx context.Context, opts *dockerPushOptions) error {
	d, docker, err := dockerDeps(opts.Deps, opts.Docker)
	if err != nil {
		return err
	}
	res, err := app.DockerPush(ctx, d, docker, opts.Request)
	if err != nil {
		return err
	}
	return opts.Render(res)
}

// newDockerMetadataCmd answers the docker CLI plugin protocol's metadata
// call: `docker-signet docker-cli-plugin-metadata` prints one JSON object.
// It is hidden from signet's help.
func newDockerMetadataCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:    dockercli.MetadataCommand,
		Short:  "Print the docker CLI plugin metadata",
		Hidden: true,
		Args:   exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			md := dockercli.NewMetadata(buildVersion(version, debug.ReadBuildInfo).Version)
			data, err := json.Marshal(md)
			if err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(append(data, '\n'))
			return err
		},
	}
}

// asDockerPlugin turns root into `docker signet`: its help names it so,
// the docker it runs gets docker's global options (docker -H HOST signet),
// and pull without --to and push with one argument are the docker
// commands (signet docker pull, signet docker push); with --to, or with
// SOURCE and R:T, they stay signet's own.
func asDockerPlugin(root *cobra.Command, f *factory, inv *dockercli.Invocation) {
	f.DockerArgs = inv.DockerArgs
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = "docker " + dockercli.PluginName
	for _, c := range root.Commands() {
		switch c.Name() {
		case "pull":
			dockerPull := newDockerPullCmd(f, nil)
			orig := c.RunE
			c.Use = "pull IMAGE[:TAG] [--to oci:DIR] [--root FILE]"
			c.Long = dockerPull.Long + "\n\nWith --to oci:DIR (signet pull):\n" + c.Long
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if cmd.Flags().Changed("to") {
					return orig(cmd, args)
				}
				root, _ := cmd.Flags().GetString("root")
				dockerPull.SetContext(cmd.Context())
				_ = dockerPull.Flags().Set("root", root)
				return dockerPull.RunE(dockerPull, args)
			}
		case "push":
			dockerPush := newDockerPushCmd(f, nil)
			orig, origArgs := c.RunE, c.Args
			c.Use = "push IMAGE[:TAG] | SOURCE R:T [--key REF]"
			c.Long = dockerPush.Long + "\n\nWith SOURCE and R:T (signet push):\n" + c.Long
			c.Args = rangeArgs(1, 2, "IMAGE[:TAG], or SOURCE and R:T")
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 2 {
					if err := origArgs(cmd, args); err != nil {
						return err
					}
					return orig(cmd, args)
				}
				key, _ := cmd.Flags().GetString("key")
				dockerPush.SetContext(cmd.Context())
				_ = dockerPush.Flags().Set("key", key)
				return dockerPush.RunE(dockerPush, args)
			}
		}
	}
}
