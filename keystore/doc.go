// Package keystore manages the signet home: encrypted software keys, records
// of hardware keys, pinned trusted roots and staged ceremonies. Writes are
// atomic, directories are 0700 and files 0600, and a command pays for one
// passphrase derivation however many keys it opens.
//
// # Layout
//
//	HOME/                       0700 (default ~/.signet, or SIGNET_HOME)
//	  keys/master.enc           the keystore master key, encrypted under the passphrase
//	  keys/<escaped-name>.key   one JSON record per key
//	  trust/<registry>/<repository>/root.json   trusted TUF metadata
//	  ceremonies/               staged, partly signed metadata
//
// internal/signethome names these paths, and the home's caches that other
// packages own; docs/design.md §4 lists every file and its owner.
//
// Every file is 0600 and every directory 0700; Open and every read refuse a
// home, directory or key file that group or others can access, and say
// which chmod fixes it.
//
// # Key format
//
// The passphrase protects one random 32-byte master key, not each key: a
// push opens the targets, snapshot and timestamp keys and must run the
// passphrase's scrypt derivation once, not three times.
//
// keys/master.enc is the master key encrypted with go-securesystemslib's
// encrypted package (scrypt N=2^16 r=8 p=1 by default, then NaCl secretbox;
// the JSON format of cosign's key files):
//
//	{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"…"},
//	 "cipher":{"name":"nacl/secretbox","nonce":"…"},"ciphertext":"…"}
//
// It is created, with a new passphrase, when the first software key is
// generated or imported. A Store unlocks it lazily, once, on the first
// private key it opens, keeps it in memory and clears it on Close.
// ChangePassphrase re-encrypts master.enc only.
//
// keys/<escaped-name>.key is JSON (byte strings in base64):
//
//	{"version":1, "name":"ci", "kind":"software|public|hardware",
//	 "type":"ecdsa-p256|ed25519", "keyid":"<TUF key ID>",
//	 "public":"-----BEGIN PUBLIC KEY-----…", "created":"<RFC 3339>",
//	 "nonce":"<24 bytes>", "sealed":"<secretbox of the PKCS#8 DER>",
//	 "hardware":{"serial":N,"slot":"9c","pin_policy":"…","touch_policy":"…",
//	             "attestation":"<PEM certificates>"}}
//
// "sealed" is secretbox.Seal(PKCS#8 DER, nonce, K) with
// K = HMAC-SHA256(master key, "signet/keystore/v1 key\x00" + name), so a
// sealed key copied into another name's record does not open. "nonce" and
// "sealed" appear only for software keys, "hardware" only for hardware
// records. The key ID is go-tuf's: metadata.KeyFromPublicKey(pub).ID().
// Reading a record checks that the public key matches the key ID and type,
// and opening a private key checks that it matches the public key.
//
// Key names are 1 to 200 characters of [A-Za-z0-9._@:/-], starting with a
// letter or digit, without "..". The file name escapes "/" as %2F and ":"
// as %3A ("127.0.0.1:5000/team/app/snapshot" is
// 127.0.0.1%3A5000%2Fteam%2Fapp%2Fsnapshot.key); a name too long for a file
// name is stored as "~<sha256 of the name>.key".
//
// # Export bundle
//
// `signet key export --private` and SIGNET_KEY use one PEM block of type
// "ENCRYPTED SIGNET KEY BUNDLE" whose bytes are go-securesystemslib
// encrypted JSON, under the bundle passphrase, of
//
//	{"version":1,"keys":[{"name":"ci","type":"ecdsa-p256","keyid":"…","private":"<PKCS#8 DER>"}]}
//
// so opening a bundle costs one derivation for all its keys.
//
// # Imported keys
//
// ParsePEM (and Import) read PKCS#8, SEC1 ("EC PRIVATE KEY"), legacy
// encrypted PEM, PKCS#8 "ENCRYPTED PRIVATE KEY" (PBES2: PBKDF2 with
// HMAC-SHA1/SHA256 or scrypt, AES-CBC), cosign's "ENCRYPTED SIGSTORE
// PRIVATE KEY", public keys and certificates. Only ECDSA P-256 and Ed25519
// keys are supported; RSA keys are refused.
package keystore
