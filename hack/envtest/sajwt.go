package main

// ServiceAccount token signing key and the JWT (RS256, RFC 7515 compact form) it signs.
//
// The build uses Debian's packaged Go sources, pruned after the first build to what the server
// imports (install-envtest.sh); go-jose is not among them, and importing it would make the
// script download and unpack the whole root again. RS256 is small enough for crypto/rsa: header
// and claims are base64url JSON, the signature RSASSA-PKCS1-v1_5 over SHA-256 of
// "<header>.<claims>". Independent verifiers check the result in the tests (openssl, OpenBao's
// pem_keys).

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// saSigningKey is the key pair tokens are signed with; keyID is the JWT `kid` (kube-apiserver
// uses base64url(SHA-256(PKIX public key)) too, so verifiers can tell keys apart).
type saSigningKey struct {
	private   *rsa.PrivateKey
	keyID     string
	publicPEM []byte
}

// loadOrCreateSigningKey reads sa.key from dir, or generates a 2048-bit RSA key (written to
// dir as sa.key and sa.pub when dir is set, like the serving certificates).
func loadOrCreateSigningKey(dir string) (*saSigningKey, error) {
	if dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "sa.key")); err == nil {
			key, err := parseRSAPrivateKey(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "sa.key"), err)
			}
			return newSigningKey(key)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	k, err := newSigningKey(key)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "sa.pub"), k.publicPEM, 0o644); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func parseRSAPrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key: %T", k)
	}
	return rk, nil
}

func newSigningKey(key *rsa.PrivateKey) (*saSigningKey, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &saSigningKey{
		private:   key,
		keyID:     base64.RawURLEncoding.EncodeToString(sum[:]),
		publicPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}, nil
}

type jwtHeader struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid,omitempty"`
}

// sign returns the compact JWS of claims.
func (k *saSigningKey) sign(claims interface{}) (string, error) {
	header, err := json.Marshal(jwtHeader{Algorithm: "RS256", KeyID: k.keyID})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.private, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// errNotOurs marks tokens this issuer did not sign (other authenticators may know them).
var errNotOurs = errors.New("not a token of this issuer")

// verify checks the signature of a compact JWS and decodes its claims into claims. Tokens
// that are not JWTs, or whose unverified `iss` is not issuer, give errNotOurs.
func (k *saSigningKey) verify(token, issuer string, claims *saClaims) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errNotOurs
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errNotOurs
	}
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(payload, &unverified) != nil || unverified.Issuer != issuer {
		return errNotOurs
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("malformed JWT header: %w", err)
	}
	var header jwtHeader
	if err := json.Unmarshal(rawHeader, &header); err != nil {
		return fmt.Errorf("malformed JWT header: %w", err)
	}
	// Only the algorithm this issuer signs with: never "none", never HMAC with the public key.
	if header.Algorithm != "RS256" {
		return fmt.Errorf("unexpected signing algorithm %q", header.Algorithm)
	}
	if header.KeyID != "" && header.KeyID != k.keyID {
		return fmt.Errorf("unknown signing key %q", header.KeyID)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("malformed JWT signature: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&k.private.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return errors.New("invalid token signature")
	}
	if err := json.Unmarshal(payload, claims); err != nil {
		return fmt.Errorf("malformed JWT claims: %w", err)
	}
	return nil
}

// saClaims are the claims of a bound ServiceAccount token, as kube-apiserver issues them.
type saClaims struct {
	Issuer     string           `json:"iss"`
	Subject    string           `json:"sub"`
	Audience   audienceClaim    `json:"aud"`
	Expiry     *int64           `json:"exp,omitempty"`
	NotBefore  *int64           `json:"nbf,omitempty"`
	IssuedAt   *int64           `json:"iat,omitempty"`
	ID         string           `json:"jti,omitempty"`
	Kubernetes kubernetesClaims `json:"kubernetes.io"`
}

type kubernetesClaims struct {
	Namespace      string     `json:"namespace"`
	ServiceAccount objectRef  `json:"serviceaccount"`
	Pod            *objectRef `json:"pod,omitempty"`
	Secret         *objectRef `json:"secret,omitempty"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// audienceClaim is `aud`: a string or a list of strings (RFC 7519 4.1.3); written as a list.
type audienceClaim []string

func (a *audienceClaim) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audienceClaim{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: %w", err)
	}
	*a = many
	return nil
}
