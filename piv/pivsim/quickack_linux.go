package pivsim

import (
	"net"
	"syscall"
)

// quickAck sets TCP_QUICKACK before a read. vpcd writes each frame's length
// and body in two send() calls; with Nagle on vpcd's side and delayed ACK
// on ours that costs about 40 ms per APDU. Linux clears the flag after
// some ACKs, so it is set before every read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
