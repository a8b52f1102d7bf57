// Package compose writes the Kubernetes drafts of package k8s as compose
// files, for running the decomposed application without a cluster: one
// service per container, volumes for the pods' emptyDirs and claims,
// bind-mounted config files, depends_on from the pods' Service
// dependencies, and a .env file with placeholder values for every secret.
//
// Two files describe the same services. compose.yaml follows the compose
// specification and keeps each pod a pod: its containers join the network,
// IPC and (when the pod shares it) process namespaces of the pod's lead
// container. compose.podman-compose-1.0.yaml is for podman-compose 1.0.3
// (Debian 12), which cannot join one container to another's namespaces at
// all (see Flavor): it runs every container in namespaces of its own, moves
// the loopback addresses of a pod's listeners to service names, and its
// header says, pod by pod, what is still lost.
//
// It converts the typed objects rather than the plan, so the compose files
// say exactly what the manifests say. Strings from the trace are escaped
// for compose interpolation ("$" becomes "$$").
package compose

import (
	"encoding/json"
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
	Image         string            `json:"image"`
	ContainerName string            `json:"container_name,omitempty"`
	Entrypoint    []string          `json:"entrypoint,omitempty"`
	Command       []string          `json:"command,omitempty"`
	Environment   map[string]string `json:"environment,omitempty"`
	User          string            `json:"user,omitempty"`
	Ports         []Port            `json:"ports,omitempty"`
	Volumes       []Mount           `json:"volumes,omitempty"`
	NetworkMode   string            `json:"network_mode,omitempty"`
	Networks      ServiceNetworks   `json:"networks,omitempty"`
	Pid           string            `json:"pid,omitempty"`
	Ipc           string            `json:"ipc,omitempty"`
	DependsOn     []string          `json:"depends_on,omitempty"`
	Restart       string            `json:"restart"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// Port publishes a container port on the host.
type Port struct {
	Target    int32  `json:"target"`
	Published string `json:"published"`
	Protocol  string `json:"protocol"`
}

// Mount is a volume or bind mount in the long syntax (no ':' parsing, so
// any path is safe where the implementation keeps it: podman-compose 1.0.3
// turns it back into -v SRC:DST, see the notes of that flavor).
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

// ServiceNetworks are the networks a service joins. They are written as a
// list when no network carries aliases: podman-compose 1.0.3 reads only
// that form (a mapping makes it fail with "missing networks").
type ServiceNetworks map[string]*ServiceNetwork

// MarshalJSON writes the list form when it says everything.
func (n ServiceNetworks) MarshalJSON() ([]byte, error) {
	for _, v := range n {
		if v != nil && len(v.Aliases) > 0 {
			return json.Marshal(map[string]*ServiceNetwork(n))
		}
	}
	return json.Marshal(sortedKeys(n))
}

// UnmarshalJSON reads both forms.
func (n *ServiceNetworks) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*n = ServiceNetworks{}
		for _, name := range list {
			(*n)[name] = nil
		}
		return nil
	}
	var m map[string]*ServiceNetwork
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("networks: neither a list nor a mapping: %w", err)
	}
	*n = m
	return nil
}

// NetworkName is the one network every pod joins.
const NetworkName = "decompose"

// Flavor is the compose implementation a file is written for.
type Flavor int

const (
	// Spec follows the compose specification: a pod's other containers
	// join its lead's network (network_mode: service:LEAD), IPC namespace
	// (ipc: service:LEAD) and, when the pod shares it, process namespace.
	// The process namespace is joined by container name (pid:
	// container:NAME, with container_name set on the lead), because
	// podman-compose 1.1 and later pass pid through to podman verbatim and
	// podman knows no "service:" mode. Runs with docker compose and
	// podman-compose 1.0.6 and later (released podman-compose ignores ipc;
	// POSIX shared memory is shared anyway, /dev/shm being a pod volume).
	Spec Flavor = iota
	// PodmanCompose10 is for podman-compose 1.0.3, Debian 12's. It gives
	// every container `--net PROJECT_NET --network-alias SERVICE` whatever
	// the service says, podman 4.3 refuses that next to any other network
	// mode (container:, ns:, host), and it ignores pid and ipc; pods (podman
	// run --pod) it never creates. So no container can join another's
	// network, process or IPC namespace there. This flavor therefore writes
	// each container as a plain service on the project network, keeps
	// everything that is shared through volumes (emptyDirs, claims, config
	// files, /dev/shm, FIFOs and unix sockets in them), moves the loopback
	// addresses of a pod's listeners to their service names where a
	// command, variable or copied config file holds them (see loopback),
	// and says in the file header, pod by pod, what is lost: signals across
	// the pod's containers, System V IPC, loopback traffic the rewrite
	// cannot reach (addresses in code, sockets bound to 127.0.0.1), and
	// Service names that differ from the lead's service name (1.0.3 gives a
	// container no alias but its service name).
	PodmanCompose10
)

// Files of the output directory, besides config/.
const (
	SpecFile            = "compose.yaml"
	PodmanCompose10File = "compose.podman-compose-1.0.yaml"
	// PodmanCompose10Config holds the config files whose loopback
	// addresses PodmanCompose10 rewrites; the others are shared in config/.
	PodmanCompose10Config = "config.podman-compose-1.0"
)

// File is one file of the output directory.
type File = k8s.File

// Files converts the drafts: compose.yaml (Flavor Spec), the same services
// for podman-compose 1.0.3 (Flavor PodmanCompose10), .env with secret
// placeholders, and config/<configmap>/<file> for every ConfigMap key that
// is mounted.
func Files(s *k8s.Set) ([]File, error) {
	var files []File
	var c *converter
	configs := map[string][]byte{}
	for _, f := range []struct {
		flavor Flavor
		name   string
	}{{Spec, SpecFile}, {PodmanCompose10, PodmanCompose10File}} {
		var err error
		if c, err = convert(s, f.flavor); err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(c.project)
		if err != nil {
			return nil, fmt.Errorf("compose: marshal %s: %w", f.name, err)
		}
		files = append(files, File{Name: f.name, Data: append([]byte(c.header()), data...)})
		for k, v := range c.configs {
			configs[k] = v
		}
	}
	var env strings.Builder
	env.WriteString("# Placeholder values for the secrets the recorder redacted: put the real ones here.\n")
	for _, k := range sortedKeys(c.env) {
		env.WriteString(k + "=" + k8s.PlaceholderValue + "\n")
	}
	files = append(files, File{Name: ".env", Data: []byte(env.String())})
	for _, name := range sortedKeys(configs) {
		files = append(files, File{Name: name, Data: configs[name]})
	}
	return files, nil
}

// convert builds the project of one flavor.
func convert(s *k8s.Set, f Flavor) (*converter, error) {
	c := &converter{set: s, flavor: f, project: &Project{Services: map[string]*Service{}, Volumes: map[string]*Volume{},
		Networks: map[string]*Network{NetworkName: {}}}, env: map[string]bool{}, configs: map[string][]byte{}}
	c.names()
	if f == PodmanCompose10 {
		c.loop = c.newLoopback()
	}
	for _, p := range s.Pods {
		if err := c.pod(p); err != nil {
			return nil, err
		}
	}
	if c.loop != nil {
		c.notes = append(c.loop.notes(c), c.notes...)
	}
	return c, nil
}

// header is the comment at the top of the file: what it is for, how to run
// it, and the flavor's notes.
func (c *converter) header() string {
	var b strings.Builder
	b.WriteString("# Drafts written by decompose from a recorded plan (the same objects as the\n# Kubernetes drafts): review the labels before running.\n")
	switch c.flavor {
	case Spec:
		b.WriteString("# Each pod's containers share its lead container's network, IPC and, where\n" +
			"# the pod shares it, process namespace. Runs with docker compose and\n" +
			"# podman-compose 1.0.6 or later. Debian 12's podman-compose 1.0.3 cannot\n" +
			"# share namespaces between services: use " + PodmanCompose10File + " there\n" +
			"# (podman-compose -f " + PodmanCompose10File + " up -d), or podman kube play\n" +
			"# with the Kubernetes drafts, which keeps the pods whole.\n")
	case PodmanCompose10:
		b.WriteString("# For podman-compose 1.0.3 (Debian 12): podman-compose -f " + PodmanCompose10File + " up -d\n" +
			"# 1.0.3 cannot put a container in another's namespaces (it adds --net to\n" +
			"# every podman run, which podman refuses beside network_mode: service: or\n" +
			"# container:, and it ignores pid and ipc), so here every container has its\n" +
			"# own: the containers of a pod share their volumes (files, FIFOs, unix\n" +
			"# sockets, /dev/shm), and the loopback addresses of a pod's listeners are\n" +
			"# rewritten to the listener's service name (the notes say which), but\n" +
			"# signals between them are lost. " + SpecFile + " keeps pods whole elsewhere.\n")
	}
	for _, n := range c.notes {
		b.WriteString("# NOTE: " + n + "\n")
	}
	return b.String()
}

// converter carries the state of one conversion.
type converter struct {
	set     *k8s.Set
	flavor  Flavor
	project *Project
	notes   []string             // header lines: what this flavor cannot express
	loop    *loopback            // PodmanCompose10: loopback addresses to move
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
