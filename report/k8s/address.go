package k8s

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// rewrite is one address that must change when the pods are split: a
// loopback listener that a Service must now reach (server side), or an
// address a client dialled that now lives in another pod (client side).
type rewrite struct {
	from, to string
	why      string
}

// rewritesFor lists the address changes for the containers of pod, longest
// address first so that "127.0.0.1:80" never shadows "127.0.0.1:8080".
func rewritesFor(p *graph.Plan, pod graph.Pod) []rewrite {
	in := map[string]bool{}
	for _, n := range pod.Components {
		in[n] = true
	}
	byFrom := map[string]rewrite{}
	add := func(from, to, why string) {
		if _, ok := byFrom[from]; !ok && from != to {
			byFrom[from] = rewrite{from: from, to: to, why: why}
		}
	}
	for _, s := range pod.Services {
		host, port, err := net.SplitHostPort(s.Listen)
		if err != nil || !isLoopback(host) {
			continue
		}
		to := net.JoinHostPort(anyAddr(host), port)
		for _, from := range loopbackForms(host, port) {
			add(from, to, fmt.Sprintf("%s listened on loopback %s: a Service reaches it only on %s", s.Component, s.Listen, to))
		}
	}
	for _, other := range p.Pods {
		if other.Name == pod.Name {
			continue
		}
		for _, s := range other.Services {
			if !anyIn(s.Clients, in) {
				continue
			}
			to := net.JoinHostPort(s.Name, strconv.Itoa(s.Port))
			for _, from := range dialled(p, s, in) {
				add(from, to, fmt.Sprintf("%s reached %s at %s, now the Service %s in pod %s", strings.Join(keep(s.Clients, in), ", "), s.Component, from, to, other.Name))
			}
		}
	}
	out := make([]rewrite, 0, len(byFrom))
	for _, r := range byFrom {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].from) != len(out[j].from) {
			return len(out[i].from) > len(out[j].from)
		}
		return out[i].from < out[j].from
	})
	return out
}

// dialled lists the addresses the clients in this pod used to reach s: the
// resources of the network couplings between them, and the listener itself
// when it is a loopback one.
func dialled(p *graph.Plan, s graph.Service, in map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	addr := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, c := range p.Couplings {
		if (c.Kind != graph.KindTCP && c.Kind != graph.KindUDP) || !strings.EqualFold(string(c.Kind), s.Protocol) {
			continue
		}
		if !contains(c.Components, s.Component) || !anyIn(c.From, in) {
			continue
		}
		if _, port, err := net.SplitHostPort(c.Resource); err == nil && port == strconv.Itoa(s.Port) {
			addr(c.Resource)
		}
	}
	if host, port, err := net.SplitHostPort(s.Listen); err == nil && isLoopback(host) {
		for _, f := range loopbackForms(host, port) {
			addr(f)
		}
	}
	sort.Strings(out)
	return out
}

// loopbackForms are the spellings of a loopback address a config file or
// argv may use.
func loopbackForms(host, port string) []string {
	forms := []string{net.JoinHostPort(host, port), "localhost:" + port}
	if host != "127.0.0.1" && !strings.Contains(host, ":") {
		forms = append(forms, "127.0.0.1:"+port)
	}
	return forms
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// anyAddr is the all-interfaces address of host's family.
func anyAddr(host string) string {
	if strings.Contains(host, ":") {
		return "::"
	}
	return "0.0.0.0"
}

// applyRewrites replaces every whole occurrence of a rewrite's address in
// s (not inside a longer host name, IP or port) and returns the result and
// the rewrites it used.
func applyRewrites(s string, rws []rewrite) (string, []rewrite) {
	var used []rewrite
	for _, r := range rws {
		var b strings.Builder
		rest, hit := s, false
		for {
			i := strings.Index(rest, r.from)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(r.from)
			if (i > 0 && isAddrByte(rest[i-1])) || (end < len(rest) && rest[end] >= '0' && rest[end] <= '9') {
				b.WriteString(rest[:end])
				rest = rest[end:]
				continue
			}
			b.WriteString(rest[:i])
			b.WriteString(r.to)
			rest, hit = rest[end:], true
		}
		if hit {
			s = b.String()
			used = append(used, r)
		}
	}
	return s, used
}

func isAddrByte(c byte) bool {
	return c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func anyIn(ss []string, set map[string]bool) bool {
	return len(keep(ss, set)) > 0
}

func keep(ss []string, set map[string]bool) []string {
	var out []string
	for _, s := range ss {
		if set[s] {
			out = append(out, s)
		}
	}
	return out
}
