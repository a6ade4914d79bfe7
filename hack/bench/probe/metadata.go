package main

import (
	"context"
	"fmt"

	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// A metadata-only Secret informer built the way client-go's metadatainformer builds one (same
// REST requests, Accept headers, reflector and store). The Debian-built control plane's cache
// keeps only the Go packages the API server imports, and k8s.io/client-go/metadata is not one
// of them, so the probe spells out the few lines it needs of it.

const (
	acceptMetaList = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1," +
		"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
	acceptMeta = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1," +
		"application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
)

var (
	parameterScheme       = runtime.NewScheme()
	metadataParameterCode = runtime.NewParameterCodec(parameterScheme)
	versionV1             = schema.GroupVersion{Version: "v1"}
)

func init() {
	metav1.AddToGroupVersion(parameterScheme, versionV1)
}

// metadataClient lists and watches one resource as PartialObjectMetadata.
type metadataClient struct {
	rest *rest.RESTClient
	path []string
}

func newMetadataClient(in *rest.Config, namespace, resource string) (*metadataClient, error) {
	cfg := rest.CopyConfig(in)
	// As metadata.ConfigFor: protobuf preferred (the JSON variant's transport removes it).
	cfg.AcceptContentTypes = protobuf + ",application/json"
	cfg.ContentType = protobuf
	cfg.NegotiatedSerializer = metainternalversionscheme.Codecs.WithoutConversion()
	cfg.GroupVersion = &schema.GroupVersion{}
	cfg.APIPath = "/this-value-should-never-be-sent"
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, err
	}
	path := []string{"api", "v1"}
	if namespace != "" {
		path = append(path, "namespaces", namespace)
	}
	return &metadataClient{rest: rc, path: append(path, resource)}, nil
}

func (c *metadataClient) list(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	obj, err := c.rest.Get().AbsPath(c.path...).SetHeader("Accept", acceptMetaList).
		SpecificallyVersionedParams(&opts, metadataParameterCode, versionV1).Do(ctx).Get()
	if err != nil {
		return nil, err
	}
	list, ok := obj.(*metav1.PartialObjectMetadataList)
	if !ok {
		return nil, fmt.Errorf("expected PartialObjectMetadataList, got %T", obj)
	}
	return list, nil
}

func (c *metadataClient) watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.rest.Get().AbsPath(c.path...).SetHeader("Accept", acceptMeta).
		SpecificallyVersionedParams(&opts, metadataParameterCode, versionV1).Watch(ctx)
}

func newMetadataInformer(cfg *rest.Config, namespace string) (cache.SharedIndexInformer, error) {
	c, err := newMetadataClient(cfg, namespace, "secrets")
	if err != nil {
		return nil, err
	}
	lw := &cache.ListWatch{
		ListWithContextFunc:  c.list,
		WatchFuncWithContext: c.watch,
	}
	return cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, c),
		&metav1.PartialObjectMetadata{}, 0, cache.Indexers{}), nil
}
