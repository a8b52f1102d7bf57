package compose

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/report/k8s"
)

// listener is a container port that the other containers of its pod
// reached on loopback.
type listener struct {
	service, proto string
	port           int32
	found          bool // its loopback address appears in what was converted
}

// loopback moves loopback addresses off loopback for Flavor
// PodmanCompose10, where the containers of a pod no longer share one. On
// the VM each loopback port had one listener, so "127.0.0.1:P" (or
// localhost:P, [::1]:P) meant the container that listens on P; in a pod
// with several containers it becomes "SERVICE:P", the name podman-compose
// 1.0.3 gives every container on the project network. The listener is
// moved with it when its own address is written the same way (the same
// config key or argument), since SERVICE resolves to its own address.
// Ports claimed by two services (plans of several hosts) are left alone.
type loopback struct {
	byPort map[int32]*listener
	clash  map[int32][]string
}

// loopbackAddr is a loopback address with a port, not inside a longer
// name or address.
var loopbackAddr = regexp.MustCompile(`(^|[^0-9A-Za-z.-])(127\.0\.0\.1|localhost|\[::1\]):([0-9]{1,5})\b`)

// newLoopback collects the listeners of the pods with several containers.
func (c *converter) newLoopback() *loopback {
	l := &loopback{byPort: map[int32]*listener{}, clash: map[int32][]string{}}
	for _, p := range c.set.Pods {
		ctrs := p.Template().Spec.Containers
		if len(ctrs) < 2 {
			continue
		}
		for _, ctr := range ctrs {
			svc := c.service[[2]string{p.Name, ctr.Name}]
			for _, port := range ctr.Ports {
				if old, ok := l.byPort[port.ContainerPort]; ok && old.service != svc {
					l.clash[port.ContainerPort] = append(l.clash[port.ContainerPort], old.service, svc)
					continue
				}
				l.byPort[port.ContainerPort] = &listener{service: svc, proto: string(port.Protocol), port: port.ContainerPort}
			}
		}
	}
	for port := range l.clash {
		delete(l.byPort, port)
	}
	return l
}

// rewrite replaces the loopback addresses of known listeners in s. It is
// nil-safe: Flavor Spec has no loopback and changes nothing.
func (l *loopback) rewrite(s string) string {
	if l == nil || len(l.byPort) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range loopbackAddr.FindAllStringSubmatchIndex(s, -1) {
		port, err := strconv.Atoi(s[m[6]:m[7]])
		ln := l.byPort[int32(port)]
		if err != nil || ln == nil {
			continue
		}
		ln.found = true
		b.WriteString(s[last:m[4]])
		b.WriteString(ln.service + ":" + strconv.Itoa(port))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func (l *loopback) rewriteAll(ws []string) []string {
	if len(ws) == 0 {
		return ws
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = l.rewrite(w)
	}
	return out
}

// notes says, pod by pod, what Flavor PodmanCompose10 changed and what it
// could not keep.
func (l *loopback) notes(c *converter) []string {
	var out []string
	for _, p := range c.set.Pods {
		if len(p.Template().Spec.Containers) < 2 {
			continue
		}
		var moved, missing []string
		for _, port := range sortedPorts(l.byPort) {
			ln := l.byPort[port]
			if !inPod(c, p, ln.service) {
				continue
			}
			addr := fmt.Sprintf("%s:%d (%s)", ln.service, port, ln.proto)
			if ln.found {
				moved = append(moved, fmt.Sprintf("127.0.0.1:%d -> %s", port, addr))
			} else {
				missing = append(missing, addr)
			}
		}
		note := fmt.Sprintf("pod %s (%s): its containers share no network, process or System V IPC namespace here: signals between them are lost",
			p.Name, strings.Join(c.podServices(p), ", "))
		if len(moved) > 0 {
			note += "; loopback addresses rewritten (a program that binds its own end to 127.0.0.1 in code still cannot reach them): " + strings.Join(moved, ", ")
		}
		if len(missing) > 0 {
			note += "; listeners whose loopback address is in no command, variable or copied config file here (containers of the pod that dialled them on 127.0.0.1 must be pointed at these by hand): " + strings.Join(missing, ", ")
		}
		out = append(out, note)
	}
	for _, port := range sortedPorts(l.clash) {
		out = append(out, fmt.Sprintf("port %d has listeners in several services (%s): its loopback addresses are left as they were", port, strings.Join(l.clash[port], ", ")))
	}
	return out
}

func inPod(c *converter, p *k8s.Pod, service string) bool {
	for _, s := range c.podServices(p) {
		if s == service {
			return true
		}
	}
	return false
}

func sortedPorts[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
