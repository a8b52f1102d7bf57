package k8s

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report"
)

// Annotation keys the drafts carry. Values are one line each.
const (
	// AnnotationEvidence names the recorded facts behind an object.
	AnnotationEvidence = "decompose.dev/evidence"
	// AnnotationAddresses lists the addresses changed for the split.
	AnnotationAddresses = "decompose.dev/address-changes"
	// AnnotationDependsOn lists the pods whose Services this pod's
	// components connect to.
	AnnotationDependsOn = "decompose.dev/depends-on"
	// AnnotationWarnings lists hidden couplings that cross pods.
	AnnotationWarnings = "decompose.dev/warnings"
	// AnnotationContainers explains containers that run a wrapper.
	AnnotationContainers = "decompose.dev/containers"
	// AnnotationSecurity says which uids the processes ran as.
	AnnotationSecurity = "decompose.dev/security"
	// ImageAnnotationPrefix + container name says what its image must hold.
	ImageAnnotationPrefix = "image.decompose.dev/"
	// LabelName selects a pod's workload and Services.
	LabelName = "app.kubernetes.io/name"
	// PlaceholderValue stands for every secret a person must fill in.
	PlaceholderValue = "REPLACE-ME"
)

// Options control what the drafts may copy from the local machine.
type Options struct {
	// ConfigContent copies the content of config files into ConfigMaps
	// when the file is readable here and does not look secret.
	ConfigContent bool
	// ReadFile reads a config file; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Set is the drafts for a whole plan.
type Set struct {
	Pods       []*Pod
	ConfigMaps []*corev1.ConfigMap
}

// Pod is the objects of one proposed pod. Exactly one of Deployment and
// StatefulSet is set.
type Pod struct {
	Name        string
	Deployment  *appsv1.Deployment
	StatefulSet *appsv1.StatefulSet
	Services    []*corev1.Service
	Secrets     []*corev1.Secret
	// Claims are standalone PersistentVolumeClaims of a Deployment (a
	// StatefulSet carries its own in volumeClaimTemplates).
	Claims []*corev1.PersistentVolumeClaim
	// DependsOn lists the pods whose Services this pod connects to.
	DependsOn []string
}

// Template is the pod template of the pod's workload.
func (p *Pod) Template() *corev1.PodTemplateSpec {
	if p.StatefulSet != nil {
		return &p.StatefulSet.Spec.Template
	}
	return &p.Deployment.Spec.Template
}

// Workload is the pod's Deployment or StatefulSet.
func (p *Pod) Workload() runtime.Object {
	if p.StatefulSet != nil {
		return p.StatefulSet
	}
	return p.Deployment
}

// Build drafts the objects for plan p.
func Build(p *graph.Plan, o Options) (*Set, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	comps := map[string]*graph.Component{}
	for i := range p.Components {
		comps[p.Components[i].Name] = &p.Components[i]
	}
	s := &Set{}
	cms := newConfigMaps(p, o)
	rws := make([][]rewrite, len(p.Pods))
	for i, pod := range p.Pods {
		for _, n := range pod.Components {
			if comps[n] == nil {
				return nil, fmt.Errorf("manifests: pod %s names unknown component %q", pod.Name, n)
			}
		}
		rws[i] = rewritesFor(p, pod)
		for _, cm := range pod.ConfigMaps {
			cms.forPod(cm, pod.Name, rws[i])
		}
	}
	for i, pod := range p.Pods {
		s.Pods = append(s.Pods, buildPod(p, pod, comps, cms, rws[i]))
	}
	s.ConfigMaps = cms.objects()
	return s, nil
}

// Objects lists every object in the order of the files.
func (s *Set) Objects() []runtime.Object {
	var out []runtime.Object
	for _, cm := range s.ConfigMaps {
		out = append(out, cm)
	}
	for _, p := range s.Pods {
		out = append(out, p.objects()...)
	}
	return out
}

func (p *Pod) objects() []runtime.Object {
	var out []runtime.Object
	for _, x := range p.Secrets {
		out = append(out, x)
	}
	for _, x := range p.Claims {
		out = append(out, x)
	}
	out = append(out, p.Workload())
	for _, x := range p.Services {
		out = append(out, x)
	}
	return out
}

// File is one file of the output directory.
type File struct {
	Name string
	Data []byte
}

// Files renders the set: configmaps.yaml, one <pod>.yaml per pod (its
// Secret stubs, claims, workload and Services) and kustomization.yaml.
func (s *Set) Files() ([]File, error) {
	var files []File
	if len(s.ConfigMaps) > 0 {
		var objs []runtime.Object
		for _, cm := range s.ConfigMaps {
			objs = append(objs, cm)
		}
		data, err := MarshalDocuments(objs)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: "configmaps.yaml", Data: data})
	}
	for _, p := range s.Pods {
		data, err := MarshalDocuments(p.objects())
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: p.Name + ".yaml", Data: data})
	}
	k := kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization"}
	for _, f := range files {
		k.Resources = append(k.Resources, f.Name)
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("manifests: marshal kustomization: %w", err)
	}
	header := "# Drafts written by decompose from a recorded plan: review every object\n# (see the decompose.dev/* annotations) before applying.\n"
	files = append(files, File{Name: "kustomization.yaml", Data: append([]byte(header), data...)})
	return files, nil
}

// kustomization is the part of kustomize's Kustomization the drafts use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// MarshalDocuments renders objects as one multi-document YAML stream.
func MarshalDocuments(objs []runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("manifests: marshal %T: %w", o, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}

// meta builds object metadata with the one-line annotations that are set.
func meta(name string, labels map[string]string, annotations map[string]string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Labels: labels}
	for k, v := range annotations {
		if v == "" {
			continue
		}
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[k] = oneLine(v)
	}
	return m
}

// maxAnnotation bounds one annotation value (the API server allows 256 KiB
// for all of an object's annotations).
const maxAnnotation = 4000

// oneLine makes s a single printable line of bounded length.
func oneLine(s string) string {
	s = report.Clean(s)
	if len(s) > maxAnnotation {
		cut := maxAnnotation
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes s an RFC 1123 label (container, volume and port names).
func dnsLabel(s string, limit int) string {
	s = strings.Trim(notLabel.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > limit {
		s = strings.Trim(s[:limit], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}

// unique returns base, or base-2, base-3... the first not in used.
func unique(base string, used map[string]bool) string {
	name := base
	for n := 2; used[name]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	used[name] = true
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
