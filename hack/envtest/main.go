// cm-envtest-apiserver is cert-manager-rs' local Kubernetes API server for integration tests.
//
// It is built on the genuine k8s.io/apiserver and k8s.io/apiextensions-apiserver libraries
// (as packaged by Debian), with etcd as storage, and serves the built-in resources
// cert-manager touches plus CRDs. It listens on 127.0.0.1 only and writes a kubeconfig once
// /readyz is OK. See hack/install-envtest.sh for the build and crates/testkit for the user.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
)

type options struct {
	etcdServers     []string
	etcdPrefix      string
	bindAddress     string
	securePort      int
	certDir         string
	token           string
	tokenUser       string
	kubeconfigOut   string
	auditLogPath    string
	featureGates    string
	parentPID       int
	memoryLimit     string
	watchCache      bool
	requestTimeout  time.Duration
	maxRequestBytes int64

	// serviceAccountIssuer is the `iss` of ServiceAccount tokens and the API audience.
	serviceAccountIssuer string

	// authorizationRulesFile answers SubjectAccessReviews (sar.go); "" allows everything.
	authorizationRulesFile string
}

func main() {
	o := &options{}
	fs := pflag.CommandLine
	fs.StringSliceVar(&o.etcdServers, "etcd-servers", []string{"http://127.0.0.1:2379"}, "etcd client URLs.")
	fs.StringVar(&o.etcdPrefix, "etcd-prefix", "/registry", "Key prefix in etcd.")
	fs.StringVar(&o.bindAddress, "bind-address", "127.0.0.1", "Loopback address to listen on.")
	fs.IntVar(&o.securePort, "secure-port", 6443, "HTTPS port; 0 picks a free one (read it from --kubeconfig-out).")
	fs.StringVar(&o.certDir, "cert-dir", "", "If set, the generated CA and serving certificate are written here (and reused if present).")
	fs.StringVar(&o.token, "token", "", "Static bearer token of a system:masters user (required).")
	fs.StringVar(&o.tokenUser, "token-user", "envtest-admin", "User name for --token.")
	fs.StringVar(&o.kubeconfigOut, "kubeconfig-out", "", "Write a kubeconfig here once /readyz is OK.")
	fs.StringVar(&o.auditLogPath, "audit-log-path", "", "Audit log (JSON lines, Metadata level, written synchronously).")
	fs.StringVar(&o.featureGates, "feature-gates", "", "k8s.io/apiserver feature gates, e.g. WatchList=false.")
	fs.IntVar(&o.parentPID, "parent-pid", 0, "Exit when this process is gone (checked every second).")
	fs.StringVar(&o.memoryLimit, "memory-limit", "1Gi", "Go soft memory limit (GOMEMLIMIT); 0 disables.")
	fs.BoolVar(&o.watchCache, "watch-cache", true, "Enable the watch cache.")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 60*time.Second, "Timeout of non-long-running requests.")
	fs.Int64Var(&o.maxRequestBytes, "max-request-bytes", 3*1024*1024, "Largest accepted request body.")
	fs.StringVar(&o.serviceAccountIssuer, "service-account-issuer", "https://kubernetes.default.svc.cluster.local", "Issuer (iss) of ServiceAccount tokens; also the audience the API server accepts.")
	fs.StringVar(&o.authorizationRulesFile, "authorization-rules-file", "", "YAML/JSON rules that answer SubjectAccessReviews (see sar.go); unset allows everything.")
	klogFlags := flag.NewFlagSet("klog", flag.ExitOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlagSet(klogFlags)
	pflag.Parse()

	if err := run(o); err != nil {
		klog.ErrorS(err, "cm-envtest-apiserver failed")
		klog.Flush()
		os.Exit(1)
	}
}

func run(o *options) error {
	if o.token == "" {
		return fmt.Errorf("--token is required")
	}
	ip := net.ParseIP(o.bindAddress)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--bind-address must be a loopback address, got %q", o.bindAddress)
	}
	if o.featureGates != "" {
		if err := utilfeature.DefaultMutableFeatureGate.Set(o.featureGates); err != nil {
			return fmt.Errorf("--feature-gates: %w", err)
		}
	}
	if o.memoryLimit != "" && o.memoryLimit != "0" {
		q, err := resource.ParseQuantity(o.memoryLimit)
		if err != nil {
			return fmt.Errorf("--memory-limit: %w", err)
		}
		debug.SetMemoryLimit(q.Value())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		klog.Info("signal received, shutting down")
		cancel()
		<-sigs
		os.Exit(1)
	}()
	if o.parentPID > 0 {
		go watchParent(o.parentPID)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(o.bindAddress, fmt.Sprint(o.securePort)))
	if err != nil {
		return err
	}
	certs, err := loadOrCreateCerts(o.certDir)
	if err != nil {
		return err
	}

	tokens, err := serviceAccountTokenIssuer(o)
	if err != nil {
		return err
	}

	srv, err := newServer(o, ln, certs, tokens)
	if err != nil {
		return err
	}
	if err := installSubjectAccessReviews(srv, o.authorizationRulesFile); err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	serverURL := fmt.Sprintf("https://%s", net.JoinHostPort(o.bindAddress, fmt.Sprint(port)))
	klog.InfoS("serving", "url", serverURL, "featureGates", o.featureGates)

	if o.kubeconfigOut != "" {
		go func() {
			if err := waitReadyAndWriteKubeconfig(ctx, serverURL, certs.caPEM, o.token, o.kubeconfigOut); err != nil {
				klog.ErrorS(err, "writing kubeconfig")
				cancel()
			}
		}()
	}
	return srv.PrepareRun().RunWithContext(ctx)
}

// serviceAccountTokenIssuer loads or creates the token signing key and publishes its public
// half as sa.pub next to the kubeconfig (before the kubeconfig appears), for verifiers such as
// OpenBao's pem_keys.
func serviceAccountTokenIssuer(o *options) (*serviceAccountTokens, error) {
	if o.serviceAccountIssuer == "" {
		return nil, fmt.Errorf("--service-account-issuer must not be empty")
	}
	key, err := loadOrCreateSigningKey(o.certDir)
	if err != nil {
		return nil, fmt.Errorf("service account signing key: %w", err)
	}
	if o.kubeconfigOut != "" {
		path := filepath.Join(filepath.Dir(o.kubeconfigOut), "sa.pub")
		if err := os.WriteFile(path, key.publicPEM, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		klog.InfoS("service account tokens", "issuer", o.serviceAccountIssuer, "publicKey", path)
	}
	return newServiceAccountTokens(o.serviceAccountIssuer, key), nil
}

// watchParent exits the process once the parent is gone, so a crashed test run never leaves
// servers behind (the launcher also sets PR_SET_PDEATHSIG; this covers exec wrappers).
func watchParent(pid int) {
	for range time.Tick(time.Second) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			klog.InfoS("parent process gone, exiting", "pid", pid)
			klog.Flush()
			os.Exit(0)
		}
		// A zombie parent still answers kill(0); check its state too.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i > 0 && strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z") {
				klog.InfoS("parent process exited, exiting", "pid", pid)
				klog.Flush()
				os.Exit(0)
			}
		}
	}
}
