package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/admission"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
)

func newAdmissionCmd(f *factory) *cobra.Command {
	cmd := newGroupCmd("admission <command>", "Run the Kubernetes admission webhook",
		`Enforce signatures where a cluster runs images: a Kubernetes admission
webhook that admits a Pod (or a workload's pod template) only when every
image verifies against the root a policy pins for its repository, and pins
each verified tag to its signed digest (docs/kubernetes.md).`)
	cmd.Example = `  signet admission serve --addr :8443 --tls-cert tls.crt --tls-key tls.key --policy policy.yaml`
	cmd.AddCommand(newAdmissionServeCmd(f, nil))
	return cmd
}

type admissionServeOptions struct {
	IO       *iostreams
	Registry func() (*registry.Client, error)
	Keystore func() (*keystore.Store, error)

	Addr         string        // --addr HOST:PORT
	TLSCert      string        // --tls-cert FILE
	TLSKey       string        // --tls-key FILE
	Policy       string        // --policy FILE
	CheckTimeout time.Duration // --check-timeout
}

func newAdmissionServeCmd(f *factory, runF func(*admissionServeOptions) error) *cobra.Command {
	opts := &admissionServeOptions{IO: f.IOStreams, Registry: f.Registry, Keystore: f.Keystore}
	cmd := &cobra.Command{
		Use:   "serve --addr HOST:PORT --tls-cert FILE --tls-key FILE --policy FILE",
		Short: "Serve the admission webhook until interrupted",
		Long: `Serve Kubernetes AdmissionReview v1 requests over HTTPS (TLS 1.2 or newer)
on --addr until SIGINT or SIGTERM, then finish the reviews in flight:

  POST /mutate    pins each verified tag to REPO:TAG@sha256:… (a JSON
                  patch) and denies an object whose images fail
  POST /validate  denies an object when any image fails; a pinned
                  reference passes when its digest is the one signed
  GET  /healthz   answers ok

Every image of containers, initContainers and ephemeralContainers of Pods
and of the pod templates of Deployments, ReplicaSets, StatefulSets,
DaemonSets, Jobs and CronJobs is checked. The policy (--policy, YAML) maps
repository globs to the root.json they must verify against; the first rule
that matches covers the image, and images no rule covers follow its
"unmatched" (deny unless it says allow). The policy, the roots and the TLS
files are read at start: restart the server to change them.

The trust data of each repository is kept under --home, and a second
review of an image whose trust data did not change costs two registry
requests. Registry credentials come from the docker config, as for every
command. Each image check gives up after --check-timeout. One line per
review is logged on stderr. --timeout does not apply.`,
		Example: `  signet admission serve --addr :8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key \
    --policy /etc/signet/policy.yaml --home /var/lib/signet/home`,
		Args:        exactArgs(0, "no arguments"),
		Annotations: map[string]string{noTimeoutAnnotation: "serves until interrupted"},
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, fl := range []struct{ name, value string }{{"--addr", opts.Addr}, {"--tls-cert", opts.TLSCert}, {"--tls-key", opts.TLSKey}, {"--policy", opts.Policy}} {
				if fl.value == "" {
					return usageError(cmd, fmt.Errorf("%s is required", fl.name))
				}
			}
			if opts.CheckTimeout <= 0 {
				return usageError(cmd, errors.New("--check-timeout must be more than 0"))
			}
			if runF != nil {
				return runF(opts)
			}
			return runAdmissionServe(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "", "listen on `HOST:PORT`")
	cmd.Flags().StringVar(&opts.TLSCert, "tls-cert", "", "serving certificate, PEM with its chain (`FILE`)")
	cmd.Flags().StringVar(&opts.TLSKey, "tls-key", "", "key of the serving certificate, PEM (`FILE`)")
	cmd.Flags().StringVar(&opts.Policy, "policy", "", "policy `FILE` (YAML): which root each repository must verify against")
	cmd.Flags().DurationVar(&opts.CheckTimeout, "check-timeout", admission.DefaultCheckTimeout, "give up on one image check after `DURATION` (below the webhook's timeoutSeconds)")
	return cmd
}

func runAdmissionServe(ctx context.Context, opts *admissionServeOptions) error {
	policy, err := admission.LoadPolicy(opts.Policy)
	if err != nil {
		return err
	}
	cert, err := admission.LoadKeyPair(opts.TLSCert, opts.TLSKey)
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	if _, err := opts.Keystore(); err != nil {
		return err
	}
	reg, err := opts.Registry()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	logLine := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		notice(opts.IO, "%s", line)
	}
	checker, err := admission.NewChecker(policy, reg, opts.Keystore,
		admission.WithCheckTimeout(opts.CheckTimeout), admission.WithLog(logLine))
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return errkind.Mark(errkind.Registry, fmt.Errorf("listening on %s: %w", opts.Addr, err))
	}
	logLine(fmt.Sprintf("serving the admission webhook on https://%s (%d rule%s, unmatched images: %s)", ln.Addr(), len(policy.Rules), plural(len(policy.Rules)), policy.Unmatched))
	if err := admission.Serve(ctx, ln, admission.NewHandler(checker), cert); err != nil {
		return errkind.Mark(errkind.Registry, err)
	}
	logLine("stopped")
	return nil
}
