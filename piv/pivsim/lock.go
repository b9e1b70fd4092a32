package pivsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// LockEnv names the environment variable that holds the path of the lock
// file tests take before they use the simulated cards (see LockCards).
const LockEnv = "SIGNET_TEST_PIVSIM_LOCK"

// LockCards takes an exclusive flock on path, so that tests in several
// processes (go test runs packages in parallel) use the shared cards one
// at a time. It polls until ctx ends; call the returned function to
// release the lock.
func LockCards(ctx context.Context, path string) (unlock func(), err error) {
	if path == "" {
		return nil, errors.New("no lock file given")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening card lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking cards: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the card lock %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
