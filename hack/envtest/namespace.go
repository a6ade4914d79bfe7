package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// namespaceREST gives namespaces Kubernetes' deletion semantics: DELETE marks the namespace
// Terminating (NamespaceLifecycle then rejects new objects in it); the namespace cleaner
// deletes its contents and only then removes the namespace itself.
type namespaceREST struct {
	*restStorage
}

func (r *namespaceREST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = &metav1.DeleteOptions{}
	}
	if p := options.Preconditions; p != nil {
		if p.UID != nil && *p.UID != ns.UID {
			return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
				fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, ns.UID))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != ns.ResourceVersion {
			return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
				fmt.Errorf("precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, ns.ResourceVersion))
		}
	}
	if ns.DeletionTimestamp != nil {
		return ns, false, nil
	}
	if deleteValidation != nil {
		if err := deleteValidation(ctx, ns); err != nil {
			return nil, false, err
		}
	}
	if len(options.DryRun) > 0 {
		return ns, false, nil
	}
	key, err := r.Store.KeyFunc(ctx, name)
	if err != nil {
		return nil, false, err
	}
	out := r.Store.NewFunc()
	uid := ns.UID
	err = r.Store.Storage.GuaranteedUpdate(ctx, key, out, false, &storage.Preconditions{UID: &uid},
		storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
			n := existing.(*corev1.Namespace).DeepCopy()
			if n.DeletionTimestamp == nil {
				now := metav1.Now()
				zero := int64(0)
				n.DeletionTimestamp = &now
				n.DeletionGracePeriodSeconds = &zero
			}
			n.Status.Phase = corev1.NamespaceTerminating
			return n, nil
		}), false, nil)
	if err != nil {
		return nil, false, err
	}
	return out, false, nil
}

// namespaceCleaner is the namespace controller's content deletion, reduced to what a test
// server needs: delete every namespaced object of a terminating namespace, then the namespace.
// Objects with finalizers keep the namespace Terminating, as in Kubernetes.
type namespaceCleaner struct {
	client  kubernetes.Interface
	dynamic dynamic.Interface
	store   *genericregistry.Store
	queue   workqueue.TypedRateLimitingInterface[string]
}

func newNamespaceCleaner(client kubernetes.Interface, dyn dynamic.Interface, store *genericregistry.Store) *namespaceCleaner {
	return &namespaceCleaner{
		client: client, dynamic: dyn, store: store,
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 10*time.Second)),
	}
}

func (c *namespaceCleaner) run(ctx context.Context, factory informers.SharedInformerFactory) {
	enqueue := func(obj interface{}) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.queue.Add(ns.Name)
		}
	}
	_, _ = factory.Core().V1().Namespaces().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
	})
	factory.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	for {
		name, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if err := c.clean(ctx, name); err != nil {
			klog.V(2).InfoS("namespace not yet empty", "namespace", name, "reason", err)
			c.queue.AddRateLimited(name)
		} else {
			c.queue.Forget(name)
		}
		c.queue.Done(name)
	}
}

func (c *namespaceCleaner) clean(ctx context.Context, name string) error {
	lists, err := c.client.Discovery().ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return err
	}
	remaining := 0
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range list.APIResources {
			verbs := sets.New[string](res.Verbs...)
			if !verbs.Has("deletecollection") || !verbs.Has("list") {
				continue
			}
			ri := c.dynamic.Resource(gv.WithResource(res.Name)).Namespace(name)
			if err := ri.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting %s: %w", res.Name, err)
			}
			left, err := ri.List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			if left != nil {
				remaining += len(left.Items)
			}
		}
	}
	if remaining > 0 {
		return fmt.Errorf("%d objects remain", remaining)
	}
	dctx := genericapirequest.WithNamespace(ctx, "")
	_, _, err = c.store.Delete(dctx, name, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
