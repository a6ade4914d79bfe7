package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const protobuf = "application/vnd.kubernetes.protobuf"

// result is the line printed once the informer has synced.
type result struct {
	Mode          string           `json:"mode"`
	Content       string           `json:"content"`
	SyncSeconds   float64          `json:"sync_seconds"`
	Objects       int              `json:"objects"`
	Requests      map[string]int64 `json:"requests"`
	ResponseBytes map[string]int64 `json:"response_bytes"`
}

func runInformer(args []string) error {
	fs := flag.NewFlagSet("informer", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	mode := fs.String("mode", "full", "full (typed Secret informer) or metadata (metadata-only informer)")
	content := fs.String("content", "protobuf", "protobuf or json")
	namespace := fs.String("namespace", "", "namespace to watch (all if empty)")
	_ = fs.Parse(args)
	if *mode != "full" && *mode != "metadata" {
		return fmt.Errorf("--mode must be full or metadata, got %q", *mode)
	}
	if *content != "protobuf" && *content != "json" {
		return fmt.Errorf("--content must be protobuf or json, got %q", *content)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("loading --kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	counts := newCounter()
	jsonOnly := *content == "json"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{next: rt, counts: counts, jsonOnly: jsonOnly}
	})
	if !jsonOnly {
		cfg.ContentType = protobuf
		cfg.AcceptContentTypes = protobuf + ",application/json"
	}

	informer, err := newInformer(cfg, *mode, *namespace)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go informer.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return fmt.Errorf("informer did not sync")
	}
	res := result{
		Mode:        *mode,
		Content:     *content,
		SyncSeconds: time.Since(start).Seconds(),
		Objects:     len(informer.GetStore().ListKeys()),
	}
	res.Requests, res.ResponseBytes = counts.snapshot()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	// Hold the cache (and the process) until the driver has read our memory figures.
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	return nil
}

func newInformer(cfg *rest.Config, mode, namespace string) (cache.SharedIndexInformer, error) {
	if mode == "full" {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace))
		return f.Core().V1().Secrets().Informer(), nil
	}
	return newMetadataInformer(cfg, namespace)
}

// counter tallies requests and response body bytes by "VERB resource", like the Rust
// components' kubeclient_requests_total / kubeclient_response_bytes_total.
type counter struct {
	mu       sync.Mutex
	requests map[string]int64
	bytes    map[string]int64
}

func newCounter() *counter {
	return &counter{requests: map[string]int64{}, bytes: map[string]int64{}}
}

func (c *counter) add(key string, req, n int64) {
	c.mu.Lock()
	c.requests[key] += req
	c.bytes[key] += n
	c.mu.Unlock()
}

func (c *counter) snapshot() (map[string]int64, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, b := map[string]int64{}, map[string]int64{}
	for k, v := range c.requests {
		r[k] = v
	}
	for k, v := range c.bytes {
		b[k] = v
	}
	return r, b
}

type countingTransport struct {
	next     http.RoundTripper
	counts   *counter
	jsonOnly bool
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.jsonOnly {
		req = req.Clone(req.Context())
		req.Header.Set("Accept", withoutProtobuf(req.Header.Get("Accept")))
	}
	key := classify(req)
	t.counts.add(key, 1, 0)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, key: key, counts: t.counts}
	return resp, nil
}

// withoutProtobuf drops the protobuf alternatives of an Accept header.
func withoutProtobuf(accept string) string {
	var kept []string
	for _, part := range strings.Split(accept, ",") {
		if !strings.HasPrefix(strings.TrimSpace(part), protobuf) {
			kept = append(kept, part)
		}
	}
	if len(kept) == 0 {
		return "application/json"
	}
	return strings.Join(kept, ",")
}

// classify names a request "VERB resource" (LIST, WATCH, GET, ...).
func classify(req *http.Request) string {
	segs := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		rest = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		rest = segs[3:]
	default:
		return req.Method + " other"
	}
	if len(rest) >= 2 && rest[0] == "namespaces" && len(rest) > 2 {
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return req.Method + " discovery"
	}
	resource, named := rest[0], len(rest) > 1
	q := req.URL.Query()
	verb := req.Method
	switch {
	case req.Method == http.MethodGet && (q.Get("watch") == "true" || q.Get("watch") == "1"):
		verb = "WATCH"
	case req.Method == http.MethodGet && named:
		verb = "GET"
	case req.Method == http.MethodGet:
		verb = "LIST"
	}
	return verb + " " + resource
}

type countingBody struct {
	io.ReadCloser
	key    string
	counts *counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.counts.add(b.key, 0, int64(n))
	return n, err
}
