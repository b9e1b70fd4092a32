// Package notary reads the trust data of a Notary v1 repository (the
// server side of Docker Content Trust) and verifies it by Notary's own
// rules, so that signet can import the tags it signs without trusting the
// server or the network in between.
//
// Client.Fetch downloads root, timestamp, snapshot, targets and every
// delegation (such as targets/releases) from
// URL/v2/<GUN>/_trust/tuf/<role>.json, each size-bounded (fetching an
// anonymous bearer token when the server's 401 challenge asks for one, as
// Docker Hub's Notary does), and checks:
//
//   - the root: signed by a threshold of its own root keys, which are X.509
//     certificates (ecdsa-x509 or rsa-x509) whose common name matches the
//     GUN and which are within their validity; with WithRootCert the root
//     must be signed by that pinned certificate, otherwise the root is
//     trusted on first use (Repository.Pinned says which);
//   - every role's key IDs (the SHA-256 of the canonical JSON of the key),
//     signature methods (ecdsa, eddsa, rsapss, rsapkcs1v15) over the
//     canonical JSON of "signed", thresholds, types, versions and expiries;
//   - the length and base64 sha256/sha512 hashes that timestamp gives for
//     snapshot and snapshot gives for root, targets and each delegation;
//   - delegations by their parent's delegation keys, with Notary's rules
//     for role names and path prefixes.
//
// Any failure refuses the whole repository with an error wrapping one of
// the Err sentinels, marked errkind.Verification. Repository.Tags then
// resolves tags the way `docker trust` does: targets/releases first, then
// targets.
package notary
