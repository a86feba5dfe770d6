package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PasswordEnv is the variable holding the password of an encrypted
// (cosign) private key, as cosign itself reads it.
const PasswordEnv = "COSIGN_PASSWORD"

// PEM block types of the private keys LoadSigner reads. cosign writes the
// encrypted ones: scrypt and NaCl secretbox around a PKCS#8 key, the
// format go-securesystemslib's encrypted package implements.
const (
	pemPKCS8           = "PRIVATE KEY"
	pemEC              = "EC PRIVATE KEY"
	pemSigstore        = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemCosign          = "ENCRYPTED COSIGN PRIVATE KEY"
	pemPublic          = "PUBLIC KEY"
	maxKeyFileBytes    = 1 << 16
	errKeyNoMaterialFm = "%s: %s" // the file's name and what is wrong, never its bytes
)

// key signs and verifies DSSE's pre-authentication encoding with an ECDSA
// P-256 key (SHA-256, ASN.1 signature, as cosign does) or an Ed25519 key.
type key struct {
	priv crypto.Signer // nil for a verifier
	pub  crypto.PublicKey
}

var _ dsse.SignerVerifier = (*key)(nil)

func (k *key) Sign(_ context.Context, data []byte) ([]byte, error) {
	if k.priv == nil {
		return nil, errors.New("a public key cannot sign")
	}
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(data)
		return ecdsa.SignASN1(rand.Reader, p, h[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(p, data), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", k.priv)
}

func (k *key) Verify(_ context.Context, data, sig []byte) error {
	switch p := k.pub.(type) {
	case *ecdsa.PublicKey:
		h := sha256.Sum256(data)
		if !ecdsa.VerifyASN1(p, h[:], sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !ed25519.Verify(p, data, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", k.pub)
}

// KeyID is empty, as in the envelopes cosign writes: the verifier is
// chosen by the deploy step (--key), not by a hint inside the envelope.
func (k *key) KeyID() (string, error) { return "", nil }

func (k *key) Public() crypto.PublicKey { return k.pub }

// LoadSigner reads a private key from a PEM file: PKCS#8 ("PRIVATE KEY",
// ECDSA P-256 or Ed25519), SEC 1 ("EC PRIVATE KEY", P-256), or cosign's
// encrypted key, decrypted with password (cosign generate-key-pair reads
// it from COSIGN_PASSWORD). Errors name the file, never its content.
func LoadSigner(file string, password []byte) (dsse.SignerVerifier, error) {
	block, err := readPEM(file)
	if err != nil {
		return nil, err
	}
	der := block.Bytes
	switch block.Type {
	case pemEC:
		p, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%s: not an EC private key", file)
		}
		return signerFor(file, p)
	case pemSigstore, pemCosign:
		if len(password) == 0 {
			return nil, fmt.Errorf("%s: an encrypted key; set %s to its password", file, PasswordEnv)
		}
		if der, err = encrypted.Decrypt(der, password); err != nil {
			// The library's error can quote the decrypted bytes' parse
			// failure; say only what it means.
			return nil, fmt.Errorf("%s: cannot decrypt the key (wrong %s?)", file, PasswordEnv)
		}
	case pemPKCS8:
	default:
		return nil, fmt.Errorf("%s: PEM block %q is not a private key (want %q, %q or %q)", file, block.Type, pemPKCS8, pemEC, pemSigstore)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#8 private key", file)
	}
	return signerFor(file, p)
}

func signerFor(file string, p any) (dsse.SignerVerifier, error) {
	switch p := p.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: ECDSA key on %s; want P-256", file, p.Curve.Params().Name)
		}
		return &key{priv: p, pub: &p.PublicKey}, nil
	case ed25519.PrivateKey:
		return &key{priv: p, pub: p.Public()}, nil
	}
	return nil, fmt.Errorf("%s: %T keys are not supported (want ECDSA P-256 or Ed25519)", file, p)
}

// LoadVerifier reads a public key ("PUBLIC KEY", PKIX) as cosign writes
// it to cosign.pub: ECDSA P-256 or Ed25519.
func LoadVerifier(file string) (dsse.Verifier, error) {
	block, err := readPEM(file)
	if err != nil {
		return nil, err
	}
	if block.Type != pemPublic {
		return nil, fmt.Errorf("%s: PEM block %q is not a public key (want %q)", file, block.Type, pemPublic)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKIX public key", file)
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: ECDSA key on %s; want P-256", file, p.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("%s: %T keys are not supported (want ECDSA P-256 or Ed25519)", file, pub)
	}
	return &key{pub: pub}, nil
}

func readPEM(file string) (*pem.Block, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxKeyFileBytes {
		return nil, fmt.Errorf(errKeyNoMaterialFm, file, "too large for a key file")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf(errKeyNoMaterialFm, file, "no PEM block")
	}
	return block, nil
}
