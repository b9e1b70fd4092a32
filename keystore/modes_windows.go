//go:build windows

package keystore

// modesArePrivacy is false on Windows: Go reports every directory as 0777
// and every writable file as 0666 there, and who may read a file is an
// ACL, which the keystore leaves to the user profile's (private to the
// user by default; docs/install.md). Keys stay encrypted either way.
const modesArePrivacy = false
