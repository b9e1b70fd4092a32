package tufmeta

import "strings"

// Names of the hash bins (TUF's succinct hash bin delegations, TAP 15;
// docs/storage.md). The top-level targets role delegates to BinsRole, which
// delegates to the bins "_bin-00" and on; a delegated role D that has bins
// of its own delegates to "_D_bin-00" and on.
const (
	// BinsRole is the delegated role that holds the succinct bin
	// delegation. Its name cannot clash with a user's delegation name,
	// which is [a-z0-9-]+.
	BinsRole = "_bins"
	// BinPrefix is the name prefix of the bins: "_bin-00" ... "_bin-ff".
	BinPrefix = "_bin"
)

// DelegationBinPrefix is the name prefix of the bins of delegated role
// role. Delegation names are [a-z0-9-]+, so "_<role>_bin" cannot clash
// with another delegation's bins, the top-level "_bin-XX" or a user role.
func DelegationBinPrefix(role string) string { return "_" + role + "_bin" }

// BinOwner returns the role whose succinct delegation names bin: BinsRole
// for "_bin-XX", the delegated role D for "_D_bin-XX".
func BinOwner(bin string) (string, bool) {
	if strings.HasPrefix(bin, BinPrefix+"-") {
		return BinsRole, true
	}
	rest, ok := strings.CutPrefix(bin, "_")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "_bin-")
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}
