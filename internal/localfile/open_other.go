//go:build !unix

package localfile

import "os"

// openNonBlocking opens path read-only; Open checked it is a regular file.
func openNonBlocking(path string) (*os.File, error) {
	return os.Open(path)
}
