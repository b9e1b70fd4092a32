package bench

import (
	"context"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_SPAWN") == "1" {
		os.Exit(Spawn(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestRunViaAHelperReportsTheChildsOwnPeakMemory(t *testing.T) {
	// Make this process big, as the driver is after filling a repository.
	big := make([]byte, 300<<20)
	for i := range big {
		big[i] = byte(i)
	}
	ctx := context.Background()
	cmd := Command{Path: "/bin/sh", Args: []string{"-c", "exit 0"}, Env: []string{"BENCH_TEST_SPAWN=1"}}
	direct, _, err := Run(ctx, nil, cmd)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Via = os.Args[0]
	via, _, err := Run(ctx, nil, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if via.MaxRSS <= 0 || via.MaxRSS > 100<<20 || via.Wall <= 0 {
		t.Errorf("through the helper: max RSS %d, wall %s; want a small sh's", via.MaxRSS, via.Wall)
	}
	t.Logf("max RSS of sh: direct %d MiB, through the helper %d KiB", direct.MaxRSS>>20, via.MaxRSS>>10)
	_ = big[len(big)-1]

	cmd.Args = []string{"-c", "echo broken >&2; exit 4"}
	if _, _, err := Run(ctx, nil, cmd); err == nil {
		t.Errorf("a failing command through the helper was not an error")
	}
}
