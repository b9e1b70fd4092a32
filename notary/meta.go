package notary

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"time"
)

// The JSON of Notary's metadata (theupdateframework/notary tuf/data).

type envelope struct {
	Signed     json.RawMessage `json:"signed"`
	Signatures []signatureJSON `json:"signatures"`
}

type signatureJSON struct {
	KeyID  string `json:"keyid"`
	Method string `json:"method"`
	Sig    []byte `json:"sig"`
}

type keyJSON struct {
	Type  string `json:"keytype"`
	Value struct {
		Public []byte `json:"public"`
	} `json:"keyval"`
}

type common struct {
	Type    string    `json:"_type"`
	Version int       `json:"version"`
	Expires time.Time `json:"expires"`
}

type roleKeysJSON struct {
	KeyIDs    []string `json:"keyids"`
	Threshold int      `json:"threshold"`
}

type rootJSON struct {
	common
	Keys  map[string]keyJSON       `json:"keys"`
	Roles map[string]*roleKeysJSON `json:"roles"`
}

type fileMeta struct {
	Length int64             `json:"length"`
	Hashes map[string][]byte `json:"hashes"`
}

type metaJSON struct {
	common
	Meta map[string]fileMeta `json:"meta"`
}

type delegatedJSON struct {
	roleKeysJSON
	Name  string   `json:"name"`
	Paths []string `json:"paths"`
}

type targetsJSON struct {
	common
	Targets     map[string]fileMeta `json:"targets"`
	Delegations struct {
		Keys  map[string]keyJSON `json:"keys"`
		Roles []delegatedJSON    `json:"roles"`
	} `json:"delegations"`
}

// Notary's _type values and the role names of the base roles.
const (
	typeRoot      = "Root"
	typeTargets   = "Targets"
	typeSnapshot  = "Snapshot"
	typeTimestamp = "Timestamp"

	roleRoot      = "root"
	roleTargets   = "targets"
	roleSnapshot  = "snapshot"
	roleTimestamp = "timestamp"

	// ReleasesRole is the delegation `docker trust` signs tags into and
	// pulls from first.
	ReleasesRole = "targets/releases"
)

// delegationName is Notary's rule for delegated role names
// (tuf/data.IsDelegation).
var delegationName = regexp.MustCompile("^[-a-z0-9_/]+$")

func isDelegation(name string) bool {
	return len(name) < 256 && delegationName.MatchString(name) &&
		path.Clean(name) == name && len(name) > len(roleTargets)+1 &&
		name[:len(roleTargets)+1] == roleTargets+"/"
}

// decodeStrict unmarshals JSON into v.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}
