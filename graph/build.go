package graph

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/trace/redact"
)

// plan assembles the Plan from the clustered pods: the engine decides the
// membership and the reasons, and Recompute derives everything else from
// plan-level data, the same way it does after a person edits the plan.
func (e *engine) plan(included []*component, pods [][]*component, couplings []Coupling) *Plan {
	p := &Plan{Hosts: e.hosts, Resolution: e.opts.Resolution, Excluded: e.excluded, BlindSpots: e.blind, Couplings: couplings}
	used := map[string]bool{}
	for _, members := range pods {
		pod := Pod{Name: uniqueName(dnsName(leadComponent(members).name), used)}
		for _, c := range members {
			pod.Components = append(pod.Components, c.name)
			pod.Why = append(pod.Why, e.groupWhy[c]...)
		}
		p.Pods = append(p.Pods, pod)
	}
	for _, c := range included {
		p.Components = append(p.Components, e.componentOut(c))
	}
	p.Recompute()
	return p
}

// leadComponent names a pod: its exposed front end, else its stateful
// component, else its backing service, else its first component by name.
func leadComponent(members []*component) *component {
	for _, test := range []func(*component) bool{
		func(c *component) bool { return c.exposed },
		func(c *component) bool { return c.stateful },
		func(c *component) bool { return c.backing },
	} {
		for _, c := range members {
			if test(c) {
				return c
			}
		}
	}
	return members[0]
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName makes s a valid Kubernetes object name (RFC 1123 label).
func dnsName(s string) string {
	s = notDNS.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}

// DNSName makes s a valid Kubernetes object name, as pod names are made.
func DNSName(s string) string { return dnsName(s) }

func uniqueName(base string, used map[string]bool) string {
	name := base
	for i := 2; used[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// countRedacted counts the secrets redacted from a command line.
func countRedacted(argv []string) int {
	n := 0
	for _, a := range argv {
		n += strings.Count(a, redact.Placeholder)
	}
	return n
}

// componentOut converts a working component to its contract form.
func (e *engine) componentOut(c *component) Component {
	root := c.procs[0].p
	out := Component{Name: c.name, Exe: c.exe, Script: c.script, Processes: len(c.procs), Exposed: c.exposed,
		Stateful: c.stateful, Backing: c.backing, Command: root.Argv, Secrets: countRedacted(root.Argv),
		Listens: sortedKeys(c.listens), DataDirs: sortedKeys(c.dataDirs), Users: sortedKeys(c.users),
		ConfigFiles: sortedKeys(c.configs)}
	hosts := map[string]bool{}
	uids := map[uint32]bool{}
	for _, x := range c.procs {
		hosts[x.host] = true
		uids[x.p.UID] = true
		out.Members = append(out.Members, Member{Host: x.host, PID: x.p.PID, PPID: x.p.PPID, Exe: x.p.Exe,
			Argv: x.p.Argv, UID: x.p.UID, User: e.userName(x), GID: x.p.GID, StartNS: x.p.StartNS, ExitNS: x.p.ExitNS})
	}
	out.Hosts = sortedKeys(hosts)
	for u := range uids {
		out.UIDs = append(out.UIDs, u)
	}
	sort.Slice(out.UIDs, func(i, j int) bool { return out.UIDs[i] < out.UIDs[j] })
	return out
}

func sortUnique(s []string) []string {
	if s == nil {
		return []string{}
	}
	sort.Strings(s)
	return dedupe(s)
}

func joinNames(names []string) string { return strings.Join(names, " + ") }
