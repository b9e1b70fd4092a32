// Package errkind classifies errors into the exit codes of docs/design.md §5, so
// that libraries can say what kind of failure happened and cmd/signet turns
// it into an exit code in one place.
package errkind

// Kind is a class of failure; its value is the process exit code.
type Kind int

// The kinds of docs/design.md §5.
const (
	OK           Kind = 0
	Verification Kind = 1 // verification failed, or a check found a problem
	Input        Kind = 2 // bad usage or bad input
	Key          Kind = 3 // a key, PIN or hardware problem
	Registry     Kind = 4 // a registry or network problem
	// Internal is an error nobody classified: a bug, or a system failure
	// (a full disk, a file signet itself keeps that cannot be written). It
	// is never the user's input: code that rejects input marks it Input.
	Internal Kind = 5
)

type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// Mark returns err classified as kind; nil stays nil. The innermost mark
// wins when an error is marked more than once, so a library's own
// classification survives wrapping by its callers.
func Mark(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// Of returns the kind of err: the innermost mark, or Internal for an
// unmarked error (nobody said it was the user's input, a key, the
// registry or a failed check) and OK for nil.
func Of(err error) Kind {
	if err == nil {
		return OK
	}
	kind := Internal
	for e := err; e != nil; {
		if ke, ok := e.(*kindError); ok {
			kind = ke.kind
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if k := Of(inner); k != Internal {
					return k
				}
			}
			e = nil
		default:
			e = nil
		}
	}
	return kind
}

// Is reports whether err is marked with kind.
func Is(err error, kind Kind) bool { return Of(err) == kind }
