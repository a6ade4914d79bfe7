package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// bootstrap creates what kube-apiserver's own controllers would: the system namespaces, and
// (standing in for kube-aggregator, which is not packaged) the APIService type as a CRD so
// that cainjector-style clients can create and patch apiregistration.k8s.io/v1 objects.
// Readiness waits for this hook.
func bootstrap(ctx context.Context, cfg *rest.Config) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	crdClient, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, name := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease} {
			_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return false, nil
			}
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict([]byte(apiServiceCRD), crd); err != nil {
			return false, fmt.Errorf("APIService CRD: %w", err)
		}
		existing, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			existing, err = crdClient.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
		}
		if err != nil {
			return false, nil
		}
		for _, c := range existing.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// apiServiceCRD mirrors the schema of apiregistration.k8s.io/v1 APIService.
const apiServiceCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: apiservices.apiregistration.k8s.io
  annotations:
    api-approved.kubernetes.io: "https://github.com/kubernetes/kubernetes/tree/master/staging/src/k8s.io/kube-aggregator"
spec:
  group: apiregistration.k8s.io
  scope: Cluster
  names:
    plural: apiservices
    singular: apiservice
    kind: APIService
    listKind: APIServiceList
    categories: [api-extensions]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Service
      type: string
      jsonPath: .spec.service.name
    - name: Available
      type: string
      jsonPath: .status.conditions[?(@.type=="Available")].status
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [groupPriorityMinimum, versionPriority]
            properties:
              service:
                type: object
                properties:
                  namespace: {type: string}
                  name: {type: string}
                  port: {type: integer, format: int32}
              group: {type: string}
              version: {type: string}
              insecureSkipTLSVerify: {type: boolean}
              caBundle: {type: string, format: byte}
              groupPriorityMinimum: {type: integer, format: int32}
              versionPriority: {type: integer, format: int32}
          status:
            type: object
            properties:
              conditions:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [type]
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: {type: string}
                    status: {type: string}
                    lastTransitionTime: {type: string, format: date-time}
                    reason: {type: string}
                    message: {type: string}
`
