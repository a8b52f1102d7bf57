// Package compose writes the Kubernetes drafts of package k8s as a compose
// file, for running the decomposed application without a cluster: one
// service per container, each pod's containers joined to the network (and,
// when the pod shares it, the process namespace) of the pod's lead
// container, volumes for the pod's emptyDirs and claims, bind-mounted
// config files, depends_on from the pods' Service dependencies, and a .env
// file with placeholder values for every secret.
//
// It converts the typed objects rather than the plan, so the compose file
// says exactly what the manifests say. Strings from the trace are escaped
// for compose interpolation ("$" becomes "$$").
package compose

import (
	"fmt"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/decompose-dev/decompose/report/k8s"
)

// Project is the subset of the compose specification the drafts use.
type Project struct {
	Services map[string]*Service `json:"services"`
	Volumes  map[string]*Volume  `json:"volumes,omitempty"`
	Networks map[string]*Network `json:"networks"`
}

// Service is one compose service: one container of a pod.
type Service struct {
	Image       string                     `json:"image"`
	Entrypoint  []string                   `json:"entrypoint,omitempty"`
	Command     []string                   `json:"command,omitempty"`
	Environment map[string]string          `json:"environment,omitempty"`
	User        string                     `json:"user,omitempty"`
	Ports       []Port                     `json:"ports,omitempty"`
	Volumes     []Mount                    `json:"volumes,omitempty"`
	NetworkMode string                     `json:"network_mode,omitempty"`
	Networks    map[string]*ServiceNetwork `json:"networks,omitempty"`
	Pid         string                     `json:"pid,omitempty"`
	Ipc         string                     `json:"ipc,omitempty"`
	DependsOn   []string                   `json:"depends_on,omitempty"`
	Restart     string                     `json:"restart"`
	Labels      map[string]string          `json:"labels,omitempty"`
}

// Port publishes a container port on the host.
type Port struct {
	Target    int32  `json:"target"`
	Published string `json:"published"`
	Protocol  string `json:"protocol"`
}

// Mount is a volume or bind mount in the long syntax (no ':' parsing, so
// any path is safe).
type Mount struct {
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// Volume is a named volume.
type Volume struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// Network is the project network.
type Network struct{}

// ServiceNetwork gives a lead container the names its pod's Services had.
type ServiceNetwork struct {
	Aliases []string `json:"aliases,omitempty"`
}

// NetworkName is the one network every pod joins.
const NetworkName = "decompose"

// File is one file of the output directory.
type File = k8s.File

// Files converts the drafts: compose.yaml, .env with secret placeholders,
// and config/<configmap>/<file> for every ConfigMap key that is mounted.
func Files(s *k8s.Set) ([]File, error) {
	c := &converter{set: s, project: &Project{Services: map[string]*Service{}, Volumes: map[string]*Volume{},
		Networks: map[string]*Network{NetworkName: {}}}, env: map[string]bool{}, configs: map[string][]byte{}}
	c.names()
	for _, p := range s.Pods {
		if err := c.pod(p); err != nil {
			return nil, err
		}
	}
	data, err := yaml.Marshal(c.project)
	if err != nil {
		return nil, fmt.Errorf("compose: marshal: %w", err)
	}
	header := "# Drafts written by decompose from a recorded plan (the same objects as the\n# Kubernetes drafts): review the labels before running.\n"
	files := []File{{Name: "compose.yaml", Data: append([]byte(header), data...)}}
	var env strings.Builder
	env.WriteString("# Placeholder values for the secrets the recorder redacted: put the real ones here.\n")
	for _, k := range sortedKeys(c.env) {
		env.WriteString(k + "=" + k8s.PlaceholderValue + "\n")
	}
	files = append(files, File{Name: ".env", Data: []byte(env.String())})
	for _, name := range sortedKeys(c.configs) {
		files = append(files, File{Name: name, Data: c.configs[name]})
	}
	return files, nil
}

// converter carries the state of one conversion.
type converter struct {
	set     *k8s.Set
	project *Project
	service map[[2]string]string // (pod, container) -> service name
	lead    map[string]string    // pod -> service name of its lead
	env     map[string]bool      // secret variables for .env
	configs map[string][]byte    // file path in the output -> content
}

// names gives every container a service name (the container's, or
// pod-container when two pods have containers of the same name) and picks
// each pod's lead: the container that serves its first Service.
func (c *converter) names() {
	count := map[string]int{}
	for _, p := range c.set.Pods {
		for _, ctr := range p.Template().Spec.Containers {
			count[ctr.Name]++
		}
	}
	c.service, c.lead = map[[2]string]string{}, map[string]string{}
	for _, p := range c.set.Pods {
		ctrs := p.Template().Spec.Containers
		for _, ctr := range ctrs {
			name := ctr.Name
			if count[name] > 1 {
				name = p.Name + "-" + ctr.Name
			}
			c.service[[2]string{p.Name, ctr.Name}] = name
		}
		lead := ctrs[0].Name
		if len(p.Services) > 0 {
			lead = serving(ctrs, p.Services[0].Spec.Ports[0].TargetPort.IntVal, lead)
		}
		c.lead[p.Name] = c.service[[2]string{p.Name, lead}]
	}
}

// serving is the container that exposes port, or def.
func serving(ctrs []corev1.Container, port int32, def string) string {
	for _, ctr := range ctrs {
		for _, p := range ctr.Ports {
			if p.ContainerPort == port {
				return ctr.Name
			}
		}
	}
	return def
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configPath is where a ConfigMap item is written in the output.
func configPath(cm, item string) string {
	return path.Join("config", cm, item)
}
