package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func testTokens(t *testing.T) *serviceAccountTokens {
	t.Helper()
	key, err := loadOrCreateSigningKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newServiceAccountTokens("https://issuer.test", key)
}

func TestSignedTokensVerify(t *testing.T) {
	tokens := testTokens(t)
	token, _, err := tokens.issue(kubernetesClaims{Namespace: "ns", ServiceAccount: objectRef{Name: "sa", UID: "u1"}}, []string{"vault"}, 600)
	if err != nil {
		t.Fatal(err)
	}
	var claims saClaims
	if err := tokens.key.verify(token, tokens.issuer, &claims); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if claims.Subject != "system:serviceaccount:ns:sa" || len(claims.Audience) != 1 || claims.Audience[0] != "vault" ||
		claims.Kubernetes.ServiceAccount.UID != "u1" || *claims.Expiry-*claims.IssuedAt != 600 {
		t.Fatalf("claims: %+v", claims)
	}
	if err := tokens.checkTime(&claims); err != nil {
		t.Fatalf("fresh token: %v", err)
	}

	// Another issuer's tokens are left to other authenticators.
	if err := tokens.key.verify(token, "https://other.test", &saClaims{}); err != errNotOurs {
		t.Fatalf("other issuer: %v", err)
	}
	if err := tokens.key.verify("static-token", tokens.issuer, &saClaims{}); err != errNotOurs {
		t.Fatalf("not a JWT: %v", err)
	}

	parts := strings.Split(token, ".")
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	changed := enc([]byte(strings.Replace(string(payload), `"name":"sa"`, `"name":"admin"`, 1)))
	if changed == parts[1] {
		t.Fatal("claims not changed")
	}
	for name, bad := range map[string]string{
		"alg none":          enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"alg HS256":         enc([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2],
		"other key":         enc([]byte(`{"alg":"RS256","kid":"elsewhere"}`)) + "." + parts[1] + "." + parts[2],
		"changed claims":    parts[0] + "." + changed + "." + parts[2],
		"changed signature": parts[0] + "." + parts[1] + "." + enc([]byte("not a signature")),
	} {
		if err := tokens.key.verify(bad, tokens.issuer, &saClaims{}); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestTokenLifetime(t *testing.T) {
	tokens := testTokens(t)
	now := time.Unix(1_700_000_000, 0)
	tokens.now = func() time.Time { return now }
	at := func(d time.Duration) *int64 { v := now.Add(d).Unix(); return &v }
	for name, c := range map[string]struct {
		claims saClaims
		ok     bool
	}{
		"valid":                 {saClaims{Expiry: at(time.Minute), NotBefore: at(-time.Minute)}, true},
		"expired within leeway": {saClaims{Expiry: at(-30 * time.Second)}, true},
		"expired":               {saClaims{Expiry: at(-2 * time.Minute)}, false},
		"not yet valid":         {saClaims{Expiry: at(time.Hour), NotBefore: at(2 * time.Minute)}, false},
		"no expiry":             {saClaims{}, false},
	} {
		if err := tokens.checkTime(&c.claims); (err == nil) != c.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAudienceClaimAcceptsAString(t *testing.T) {
	var a audienceClaim
	if err := a.UnmarshalJSON([]byte(`"one"`)); err != nil || len(a) != 1 || a[0] != "one" {
		t.Fatalf("%v %v", a, err)
	}
	if err := a.UnmarshalJSON([]byte(`["a","b"]`)); err != nil || len(a) != 2 {
		t.Fatalf("%v %v", a, err)
	}
	if err := a.UnmarshalJSON([]byte(`7`)); err == nil {
		t.Fatal("a number is no audience")
	}
}
