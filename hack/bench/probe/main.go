// cm-bench-probe: the Go side of `make bench` (hack/bench/bench.py).
//
//	informer  a client-go Secret informer, the baseline the Rust components are compared with:
//	          full objects (the shared informer factory's Secret informer, what cert-manager's
//	          controller used before SecretsFilteredCaching) or metadata-only (metadatainformer).
//	          It prints one JSON line when synced and exits when stdin closes, so the driver can
//	          read its /proc/<pid>/status in between. WatchList is client-go's own gate:
//	          KUBE_FEATURE_WatchListClient=true|false.
//	populate  creates the benchmark's Secrets (random payload) concurrently.
//	crds      creates the CustomResourceDefinitions in YAML files and waits until they are
//	          Established (the controller's caches need them).
//
// Built by hack/bench/build-probe.sh from the same Debian Go packages as the local control plane.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "informer":
		err = runInformer(os.Args[2:])
	case "populate":
		err = runPopulate(os.Args[2:])
	case "crds":
		err = runCRDs(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cm-bench-probe %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cm-bench-probe informer|populate|crds [flags] (see -h of each)")
	os.Exit(2)
}
