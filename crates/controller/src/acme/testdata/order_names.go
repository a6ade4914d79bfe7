//go:build ignore

// Golden values for crates/controller/src/acme/order_name.rs: the Order names cert-manager
// v1.21 gives (pkg/controller/certificaterequests/acme buildOrder + pkg/api/util ComputeName),
// computed by Go itself. The types below declare the same fields, order and JSON tags as
// cert-manager's acme/v1 OrderSpec, meta/v1 IssuerReference and apimachinery's
// metav1.Duration (which marshals as Duration.String()); only the standard library is used.
//
// Rerun (offline) from this directory and paste the output into order_name.rs's tests:
//
//	GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off \
//	  $HOME/.cache/cert-manager-rs/envtest/root/usr/lib/go-1.26/bin/go run order_names.go
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"regexp"
	"strconv"
	"time"
)

type issuerReference struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Group string `json:"group,omitempty"`
}

// metav1.Duration's wire form.
type duration struct{ time.Duration }

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

type orderSpec struct {
	Request     []byte          `json:"request"`
	IssuerRef   issuerReference `json:"issuerRef"`
	CommonName  string          `json:"commonName,omitempty"`
	DNSNames    []string        `json:"dnsNames,omitempty"`
	IPAddresses []string        `json:"ipAddresses,omitempty"`
	Duration    *duration       `json:"duration,omitempty"`
	Profile     string          `json:"profile,omitempty"`
	Replaces    string          `json:"replaces,omitempty"`
}

var alphaNumeric = regexp.MustCompile(`[a-zA-Z\d]`)

// At most 52 bytes, ending on the last alphanumeric character within them.
func shortenTo52(in string) string {
	if len(in) < 52 {
		return in
	}
	idx := alphaNumeric.FindAllStringIndex(in[:52], -1)
	if len(idx) == 0 {
		return ""
	}
	return in[:idx[len(idx)-1][1]]
}

// The name an Order of request crName with spec gets, and the bytes that were hashed.
func orderName(crName string, spec orderSpec) (string, string) {
	spec.Request = nil // the CSR is not part of the name
	var obj any = &spec
	if len(crName) >= 52 {
		obj = struct {
			CRName string     `json:"certificateRequestName"`
			Spec   *orderSpec `json:"spec"`
		}{crName, &spec}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	h := fnv.New32()
	h.Write(b)
	return fmt.Sprintf("%s-%d", shortenTo52(crName), h.Sum32()), string(b)
}

// As the API client decodes a CertificateRequest's spec.duration.
func dur(s string) *duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &duration{d}
}

// net.IP as x509 gives it (4 or 16 bytes) to its String form.
func ips(raw ...[]byte) []string {
	var out []string
	for _, b := range raw {
		out = append(out, net.IP(b).String())
	}
	return out
}

// The spec buildOrder makes from the CSR in order_name.csr.pem.
func fromCSR(ref issuerReference) orderSpec {
	data, err := os.ReadFile("order_name.csr.pem")
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(data)
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		panic(err)
	}
	var ipAddresses []string
	for _, ip := range csr.IPAddresses {
		ipAddresses = append(ipAddresses, ip.String())
	}
	return orderSpec{
		Request:     data,
		IssuerRef:   ref,
		CommonName:  csr.Subject.CommonName,
		DNSNames:    csr.DNSNames,
		IPAddresses: ipAddresses,
		Duration:    dur("2160h"),
	}
}

func main() {
	v4mapped := net.ParseIP("198.51.100.7") // 16 bytes, ::ffff:198.51.100.7
	cases := []struct {
		id, crName string
		spec       orderSpec
	}{
		{"minimal", "web-1", orderSpec{
			Request:    []byte("ignored"),
			IssuerRef:  issuerReference{Name: "letsencrypt"},
			CommonName: "a.example.com",
			DNSNames:   []string{"a.example.com"},
		}},
		{"all-fields", "web-2", orderSpec{
			IssuerRef: issuerReference{Name: "le", Kind: "ClusterIssuer", Group: "cert-manager.io"},
			DNSNames:  []string{"b.example.com", "a.example.com"},
			IPAddresses: ips([]byte{192, 0, 2, 1}, v4mapped,
				net.ParseIP("2001:db8:0:0:1:0:0:1"), net.ParseIP("::1")),
			Duration: dur("2160h"),
			Profile:  "shortlived",
			Replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
		}},
		{"ip-only", "ip-only", orderSpec{
			IssuerRef:   issuerReference{Name: "x", Kind: "Issuer"},
			IPAddresses: ips([]byte{10, 0, 0, 1}),
			Duration:    dur("90m"),
		}},
		{"escaping", "esc", orderSpec{
			IssuerRef:  issuerReference{Name: "a&b"},
			CommonName: "x<y>&z.example",
			DNSNames:   []string{"x<y>&z.example", "tab\there\"q\"\\", "\u00e9.example", "line\u2028sep\u2029", "ctl\x01\x7f\b\f\r\n"},
			Duration:   dur("1500ms"),
		}},
		{"micro", "micro", orderSpec{
			IssuerRef: issuerReference{Name: "le"},
			DNSNames:  []string{"m.example"},
			Duration:  dur("2us"),
		}},
		{"len-51", "a23456789-123456789-123456789-123456789-123456789-1", orderSpec{
			IssuerRef: issuerReference{Name: "le"},
			DNSNames:  []string{"l.example"},
		}},
		{"len-52", "a23456789-123456789-123456789-123456789-123456789-12", orderSpec{
			IssuerRef: issuerReference{Name: "le"},
			DNSNames:  []string{"l.example"},
		}},
		{"long-cut", "a-very-long-certificate-request-name-for-the-examp.-le-com-1", orderSpec{
			IssuerRef: issuerReference{Name: "le"},
			DNSNames:  []string{"l.example"},
		}},
		{"csr", "from-csr-1", fromCSR(issuerReference{Name: "le", Kind: "ClusterIssuer", Group: "cert-manager.io"})},
	}
	for _, c := range cases {
		name, hashed := orderName(c.crName, c.spec)
		fmt.Printf("(%s, %s, %s),\n", strconv.Quote(c.id), strconv.Quote(hashed), strconv.Quote(name))
	}
}
