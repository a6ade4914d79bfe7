package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// faoLabel marks Secrets cert-manager owns ("for attention of"); the controller caches them.
const faoLabel = "controller.cert-manager.io/fao"

func runPopulate(args []string) error {
	fs := flag.NewFlagSet("populate", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	namespace := fs.String("namespace", "bench", "namespace (created if missing)")
	count := fs.Int("count", 100, "number of Secrets")
	first := fs.Int("first", 0, "index of the first Secret (names are <prefix>-<index>)")
	size := fs.Int("size", 1<<20, "bytes of random payload per Secret")
	prefix := fs.String("prefix", "bench", "name prefix")
	owned := fs.Bool("owned", false, "label the Secrets "+faoLabel+"=true")
	workers := fs.Int("concurrency", 8, "parallel requests")
	_ = fs.Parse(args)
	if *count < 0 || *size < 0 || *workers < 1 {
		return fmt.Errorf("--count, --size must be >= 0 and --concurrency >= 1")
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("loading --kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 10000, 10000
	cfg.ContentType = protobuf
	cfg.AcceptContentTypes = protobuf + ",application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: *namespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", *namespace, err)
	}

	var labels map[string]string
	if *owned {
		labels = map[string]string{faoLabel: "true"}
	}
	var next atomic.Int64
	next.Store(int64(*first))
	end := int64(*first + *count)
	errs := make(chan error, *workers)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, *size)
			for {
				i := next.Add(1) - 1
				if i >= end {
					return
				}
				_, _ = rand.Read(payload)
				s := &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", *prefix, i), Labels: labels},
					Type:       corev1.SecretTypeOpaque,
					Data:       map[string][]byte{"payload": payload},
				}
				if _, err := cs.CoreV1().Secrets(*namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating secret %s/%s: %w", *namespace, s.Name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
