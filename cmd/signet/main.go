// Command signet signs container image pushes with TUF metadata kept in the
// OCI registry, with root and signing keys on YubiKeys.
package main

import "os"

func main() { os.Exit(run()) }

func run() int { return 0 }
