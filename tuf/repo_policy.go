package tuf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Default expiry periods of docs/design.md §1.
const (
	DefaultRootExpiry      = 365 * 24 * time.Hour
	DefaultTargetsExpiry   = 365 * 24 * time.Hour
	DefaultSnapshotExpiry  = 30 * 24 * time.Hour
	DefaultTimestampExpiry = 7 * 24 * time.Hour
)

// policyField is the root metadata field where signet keeps the expiry
// periods chosen at init, so that every later signer uses the same ones. It
// is part of the signed root: only the root keys can change it.
const policyField = "x-signet-expires"

// Expiries are the periods each role's metadata is valid for after it is
// signed. Delegated roles use Targets.
type Expiries struct {
	Root, Targets, Snapshot, Timestamp time.Duration
}

// DefaultExpiries returns the periods of docs/design.md §1.
func DefaultExpiries() Expiries {
	return Expiries{
		Root:      DefaultRootExpiry,
		Targets:   DefaultTargetsExpiry,
		Snapshot:  DefaultSnapshotExpiry,
		Timestamp: DefaultTimestampExpiry,
	}
}

// For returns the period of a role; delegated roles have the targets period.
func (e Expiries) For(role string) time.Duration {
	switch role {
	case metadata.ROOT:
		return e.Root
	case metadata.SNAPSHOT:
		return e.Snapshot
	case metadata.TIMESTAMP:
		return e.Timestamp
	default:
		return e.Targets
	}
}

// Set parses "ROLE=DURATION" (DURATION as a Go duration or whole days such
// as "30d") and sets that role's period. ROLE is root, targets, snapshot,
// timestamp, or delegations (which share the targets period).
func (e *Expiries) Set(spec string) error {
	role, value, ok := strings.Cut(spec, "=")
	if !ok {
		return fmt.Errorf("expiry %q: want ROLE=DURATION, such as timestamp=7d", spec)
	}
	d, err := ParseDuration(value)
	if err != nil {
		return fmt.Errorf("expiry for %s: %w", role, err)
	}
	switch role {
	case metadata.ROOT:
		e.Root = d
	case metadata.TARGETS, "delegations":
		e.Targets = d
	case metadata.SNAPSHOT:
		e.Snapshot = d
	case metadata.TIMESTAMP:
		e.Timestamp = d
	default:
		return fmt.Errorf("expiry %q: unknown role %q (root, targets, snapshot, timestamp)", spec, role)
	}
	return nil
}

// ParseDuration parses a positive Go duration ("90s", "36h") or a whole
// number of days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a Go duration or days such as 30d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a Go duration or days such as 30d", s)
		}
	}
	if d < time.Second {
		return 0, fmt.Errorf("invalid duration %q: must be at least one second", s)
	}
	return d, nil
}

// toField renders the periods for the root's policy field, in seconds.
func (e Expiries) toField() map[string]any {
	return map[string]any{
		metadata.ROOT:      int64(e.Root / time.Second),
		metadata.TARGETS:   int64(e.Targets / time.Second),
		metadata.SNAPSHOT:  int64(e.Snapshot / time.Second),
		metadata.TIMESTAMP: int64(e.Timestamp / time.Second),
	}
}

// expiriesFromRoot reads the periods from a root's policy field; missing or
// malformed entries fall back to the defaults.
func expiriesFromRoot(root *metadata.RootType) Expiries {
	e := DefaultExpiries()
	field, ok := root.UnrecognizedFields[policyField].(map[string]any)
	if !ok {
		return e
	}
	// A root read from JSON holds float64 seconds; the root Init has just
	// made, before its first publish, holds toField's int64.
	get := func(role string, into *time.Duration) {
		switch v := field[role].(type) {
		case float64:
			if v >= 1 {
				*into = time.Duration(v) * time.Second
			}
		case int64:
			if v >= 1 {
				*into = time.Duration(v) * time.Second
			}
		}
	}
	get(metadata.ROOT, &e.Root)
	get(metadata.TARGETS, &e.Targets)
	get(metadata.SNAPSHOT, &e.Snapshot)
	get(metadata.TIMESTAMP, &e.Timestamp)
	return e
}

// expiry returns the expiry time for metadata signed now: whole seconds, UTC.
func expiry(now time.Time, d time.Duration) time.Time {
	return now.Add(d).UTC().Truncate(time.Second)
}
