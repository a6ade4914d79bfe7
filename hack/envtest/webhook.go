package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// loopbackServiceResolver resolves webhook (and CRD conversion webhook) service references
// without a cluster network: the Service's Endpoints give a loopback address and target port;
// without Endpoints, 127.0.0.1:<service port> is dialled. TLS still verifies the name
// <service>.<namespace>.svc, which the webhook client sets independently of the address.
type loopbackServiceResolver struct {
	client kubernetes.Interface
}

var _ webhook.ServiceResolver = &loopbackServiceResolver{}

func (r *loopbackServiceResolver) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	client := r.client
	// Called while an admission request waits; never hang it on a slow lookup.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svc, err := client.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("resolving webhook service %s/%s: %w", namespace, name, err)
	}
	svcPort, err := servicePortByNumber(svc, port)
	if err != nil {
		return nil, err
	}
	ep, err := client.CoreV1().Endpoints(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolving webhook endpoints %s/%s: %w", namespace, name, err)
	}
	for _, ss := range ep.Subsets {
		target, ok := endpointPort(ss.Ports, svcPort)
		if !ok {
			continue
		}
		for _, addr := range ss.Addresses {
			ip := net.ParseIP(addr.IP)
			if ip == nil || !ip.IsLoopback() {
				// Only loopback is reachable (and allowed) here; skip anything else.
				continue
			}
			return &url.URL{Scheme: "https", Host: net.JoinHostPort(addr.IP, strconv.Itoa(int(target)))}, nil
		}
	}
	return nil, fmt.Errorf("endpoints %s/%s have no loopback address for service port %d", namespace, name, port)
}

// endpointPort picks the endpoint port for a service port the way kube-proxy does (by port
// name), also accepting a numeric targetPort match or a single unnamed port.
func endpointPort(ports []corev1.EndpointPort, sp *corev1.ServicePort) (int32, bool) {
	for _, p := range ports {
		if sp.Name != "" && p.Name == sp.Name {
			return p.Port, true
		}
	}
	for _, p := range ports {
		if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0 && p.Port == sp.TargetPort.IntVal {
			return p.Port, true
		}
		if sp.TargetPort.Type == intstr.String && p.Name == sp.TargetPort.StrVal {
			return p.Port, true
		}
	}
	if len(ports) == 1 && (ports[0].Name == "" || sp.Name == "") {
		return ports[0].Port, true
	}
	return 0, false
}

// noProxyWrapper keeps webhook calls away from any HTTP(S)_PROXY of the environment:
// "<svc>.<ns>.svc" names would otherwise be sent to the proxy.
func noProxyWrapper(delegate webhook.AuthenticationInfoResolver) webhook.AuthenticationInfoResolver {
	noProxy := func(*http.Request) (*url.URL, error) { return nil, nil }
	return &webhook.AuthenticationInfoResolverDelegator{
		ClientConfigForFunc: func(hostPort string) (*rest.Config, error) {
			c, err := delegate.ClientConfigFor(hostPort)
			if err != nil {
				return nil, err
			}
			c = rest.CopyConfig(c)
			c.Proxy = noProxy
			return c, nil
		},
		ClientConfigForServiceFunc: func(name, namespace string, port int) (*rest.Config, error) {
			c, err := delegate.ClientConfigForService(name, namespace, port)
			if err != nil {
				return nil, err
			}
			c = rest.CopyConfig(c)
			c.Proxy = noProxy
			return c, nil
		},
	}
}
