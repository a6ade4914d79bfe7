package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const aggregatedDiscoveryAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// discoveryShim stands in for the parts of kube-aggregator clients rely on:
//   - the legacy /apis APIGroupList, built from the aggregated discovery document that both
//     servers feed, so CRD groups are listed too (kube-rs and older clients use it);
//   - /openapi/v3, merging the CRD server's paths into the built-in ones and falling back to
//     the CRD server for documents the built-in server does not have.
type discoveryShim struct {
	next    http.Handler
	crd     http.Handler
	manager http.Handler
}

func (d *discoveryShim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && (r.URL.Path == "/apis" || r.URL.Path == "/apis/") &&
		!strings.Contains(r.Header.Get("Accept"), "apidiscovery.k8s.io"):
		d.legacyAPIs(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/openapi/v3":
		d.openAPIRoot(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/openapi/v3/"):
		rec := httptest.NewRecorder()
		d.next.ServeHTTP(rec, r)
		// kube-openapi answers an unknown group version with an empty 200.
		if rec.Code == http.StatusNotFound || (rec.Code == http.StatusOK && rec.Body.Len() == 0) {
			d.crd.ServeHTTP(w, r)
			return
		}
		copyRecorded(w, rec)
	default:
		d.next.ServeHTTP(w, r)
	}
}

func (d *discoveryShim) legacyAPIs(w http.ResponseWriter, r *http.Request) {
	req := r.Clone(r.Context())
	req.Header.Set("Accept", aggregatedDiscoveryAccept)
	req.Header.Del("If-None-Match")
	rec := httptest.NewRecorder()
	d.manager.ServeHTTP(rec, req)
	var doc apidiscoveryv2.APIGroupDiscoveryList
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		d.next.ServeHTTP(w, r)
		return
	}
	list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
	for _, g := range doc.Items {
		group := metav1.APIGroup{Name: g.Name}
		for _, v := range g.Versions {
			group.Versions = append(group.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g.Name + "/" + v.Version, Version: v.Version})
		}
		if len(group.Versions) == 0 {
			continue
		}
		// The aggregated document lists versions by preference.
		group.PreferredVersion = group.Versions[0]
		list.Groups = append(list.Groups, group)
	}
	body, err := json.Marshal(list)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	_, _ = w.Write(body)
}

func (d *discoveryShim) openAPIRoot(w http.ResponseWriter, r *http.Request) {
	fetch := func(h http.Handler) map[string]json.RawMessage {
		req := r.Clone(r.Context())
		req.Header.Del("If-None-Match")
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var doc struct {
			Paths map[string]json.RawMessage `json:"paths"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
			return nil
		}
		return doc.Paths
	}
	paths := fetch(d.crd)
	if paths == nil {
		paths = map[string]json.RawMessage{}
	}
	for k, v := range fetch(d.next) {
		paths[k] = v
	}
	body, err := json.Marshal(map[string]interface{}{"paths": paths})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	_, _ = w.Write(body)
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = bytes.NewReader(rec.Body.Bytes()).WriteTo(w)
}
