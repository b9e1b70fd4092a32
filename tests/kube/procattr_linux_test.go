package kube

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes cmd end when the test process does, even when go
// test's -timeout ends it without running the cleanups.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
