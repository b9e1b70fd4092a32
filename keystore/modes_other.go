//go:build !windows

package keystore

// modesArePrivacy is true where a file's mode bits say who may read it, so
// the keystore refuses files and directories open to group or others.
const modesArePrivacy = true
