package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/simple"
)

// Recompute derives everything in p that follows from which component is in
// which pod: whether each coupling crosses pods and its remedy, each pod's
// workload kind, Services, volumes, ConfigMaps, Secrets and security
// context, the migration order, the quality figures and the warnings. The
// engine calls it once; editors call it after every move. It reads only
// plan-level data, so a plan saved as JSON recomputes the same way.
func (p *Plan) Recompute() {
	comps := map[string]*Component{}
	for i := range p.Components {
		comps[p.Components[i].Name] = &p.Components[i]
	}
	podOf := p.podOf()
	for i := range p.Couplings {
		c := &p.Couplings[i]
		c.ID = couplingID(c)
		c.CrossesPods = false
		for _, n := range c.Components[1:] {
			c.CrossesPods = c.CrossesPods || podOf[n] != podOf[c.Components[0]]
		}
		c.Remedy = ""
		if c.CrossesPods || c.Distance == SeparatePods {
			c.Remedy = remedies[c.Kind]
		}
	}
	for i := range p.Pods {
		fillPod(&p.Pods[i], comps, p.Couplings)
	}
	p.Order = migrationOrder(p.Pods, p.Couplings, podOf)
	p.Quality = quality(p.Components, p.Couplings, podOf)
	p.Warnings = warnings(p, podOf)
	normalize(p)
}

// podOf maps component names to pod names.
func (p *Plan) podOf() map[string]string {
	m := map[string]string{}
	for _, pod := range p.Pods {
		for _, c := range pod.Components {
			m[c] = pod.Name
		}
	}
	return m
}

// fillPod derives a pod's workload, Services, volumes, ConfigMaps, Secrets
// and security context from its components and the couplings touching them.
func fillPod(pod *Pod, comps map[string]*Component, couplings []Coupling) {
	in := map[string]bool{}
	for _, n := range pod.Components {
		in[n] = true
	}
	pod.Workload, pod.RunAsUsers, pod.FSGroup, pod.ShareProcessNamespace = "Deployment", map[string]uint32{}, 0, false
	pod.Services, pod.Volumes, pod.ConfigMaps, pod.Secrets = nil, nil, nil, nil
	services := map[string]*Service{}
	volumes := map[string]*Volume{}
	addVolume := func(kind, dir, medium, why string, names []string) {
		v := volumes[dir]
		if v == nil {
			v = &Volume{Kind: kind, Path: dir, Medium: medium, Why: why}
			volumes[dir] = v
		}
		v.Components = append(v.Components, names...)
	}
	for _, n := range pod.Components {
		c := comps[n]
		if c.Stateful {
			pod.Workload = "StatefulSet"
		}
		if len(c.Members) > 0 {
			pod.RunAsUsers[n] = c.Members[0].UID
		}
		for _, dir := range c.DataDirs {
			addVolume("PersistentVolumeClaim", dir, "", n+" writes and keeps data here", []string{n})
		}
		if c.Exposed {
			for _, l := range c.Listens {
				if proto, ep, _ := strings.Cut(l, ":"); proto != "unix" && !isLoopback(ep) {
					addService(services, n, l, true, nil)
				}
			}
		}
		if c.Secrets > 0 {
			pod.Secrets = append(pod.Secrets, Secret{Name: dnsName(n) + "-secrets", Component: n, Keys: c.Secrets})
		}
	}
	configs := map[string]*ConfigMap{}
	for _, c := range couplings {
		mine := keepStrings(c.Components, func(n string) bool { return in[n] })
		if len(mine) == 0 {
			continue
		}
		switch c.Kind {
		case KindTCP, KindUDP:
			server := without(c.Components, c.From)
			if len(server) == 1 && in[server[0]] && c.CrossesPods {
				addService(services, server[0], string(c.Kind)+":"+c.Resource, false, c.From)
			}
		case KindConfig:
			dir := path.Dir(c.Resource)
			cm := configs[dir]
			if cm == nil {
				cm = &ConfigMap{Name: dnsName(path.Base(dir)) + "-config"}
				configs[dir] = cm
			}
			cm.Files = append(cm.Files, c.Resource)
			cm.Components = append(cm.Components, mine...)
			cm.Shared = cm.Shared || len(mine) < len(c.Components)
		case KindShm:
			if len(mine) > 1 {
				addVolume("emptyDir", path.Dir(c.Resource), "Memory", "shared memory between "+joinNames(mine), mine)
			}
		case KindDir:
			if len(mine) > 1 {
				addVolume("emptyDir", c.Resource, "", "directory shared by "+joinNames(mine), mine)
			}
		case KindFIFO, KindUnix, KindFile:
			if len(mine) > 1 && strings.HasPrefix(c.Resource, "/") {
				addVolume("emptyDir", path.Dir(c.Resource), "", string(c.Kind)+" "+path.Base(c.Resource)+" shared by "+joinNames(mine), mine)
			}
		case KindSignal:
			pod.ShareProcessNamespace = pod.ShareProcessNamespace || len(mine) > 1
		}
	}
	// A component's own config files (read only by it, or named on its
	// command line) ship in its pod's ConfigMaps too.
	for _, n := range pod.Components {
		for _, f := range comps[n].ConfigFiles {
			dir := path.Dir(f)
			cm := configs[dir]
			if cm == nil {
				cm = &ConfigMap{Name: dnsName(path.Base(dir)) + "-config"}
				configs[dir] = cm
			}
			cm.Files = append(cm.Files, f)
			cm.Components = append(cm.Components, n)
		}
	}
	for _, s := range services {
		pod.Services = append(pod.Services, *s)
	}
	for _, v := range volumes {
		pod.Volumes = append(pod.Volumes, *v)
	}
	for _, cm := range configs {
		pod.ConfigMaps = append(pod.ConfigMaps, *cm)
	}
	nameVolumes(pod, comps)
}

// nameVolumes names a pod's volumes and picks the fsGroup shared volumes
// need: the gid of the first component that shares one.
func nameVolumes(pod *Pod, comps map[string]*Component) {
	used := map[string]bool{}
	sort.Slice(pod.Volumes, func(i, j int) bool { return pod.Volumes[i].Path < pod.Volumes[j].Path })
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		v.Components = sortUnique(v.Components)
		v.Name = uniqueName(volumeName(v.Path), used)
		if c := comps[v.Components[0]]; len(v.Components) > 1 && pod.FSGroup == 0 && len(c.Members) > 0 {
			pod.FSGroup = c.Members[0].GID
		}
	}
}

// volumeName names a volume after the last two parts of its path
// (/var/log/app -> log-app), which tell apart /run/app and /var/log/app.
func volumeName(p string) string {
	dir, base := path.Split(path.Clean(p))
	if parent := path.Base(dir); parent != "/" && parent != "." {
		return dnsName(parent + "-" + base)
	}
	return dnsName(base)
}

// addService records a listener reached from other pods or from outside.
func addService(services map[string]*Service, comp, listen string, exposed bool, clients []string) {
	proto, ep, _ := strings.Cut(listen, ":")
	port := endpointPort(ep)
	key := comp + "/" + proto + "/" + strconv.Itoa(port)
	s := services[key]
	if s == nil {
		s = &Service{Name: dnsName(comp), Component: comp, Protocol: strings.ToUpper(proto), Port: port, Listen: ep}
		services[key] = s
	}
	s.Exposed = s.Exposed || exposed
	s.Clients = append(s.Clients, clients...)
}

// migrationOrder lists pods dependencies first: a pod whose components are
// reached by another pod's clients comes before it. Ties, and cycles, are
// broken by name so the order is deterministic.
func migrationOrder(pods []Pod, couplings []Coupling, podOf map[string]string) []string {
	deps := map[string]map[string]bool{} // pod -> pods it depends on
	for _, p := range pods {
		deps[p.Name] = map[string]bool{}
	}
	for _, c := range couplings {
		if !c.CrossesPods {
			continue
		}
		for _, client := range c.From {
			for _, server := range without(c.Components, c.From) {
				if a, b := podOf[client], podOf[server]; a != b {
					deps[a][b] = true
				}
			}
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(pods) {
		var ready, left []string
		for _, p := range pods {
			if done[p.Name] {
				continue
			}
			left = append(left, p.Name)
			free := true
			for d := range deps[p.Name] {
				free = free && done[d]
			}
			if free {
				ready = append(ready, p.Name)
			}
		}
		if len(ready) == 0 { // a cycle: break it at the first pod by name
			ready = left
		}
		sort.Strings(ready)
		done[ready[0]] = true
		order = append(order, ready[0])
	}
	return order
}

// quality measures the cut: couplings and bytes crossing pods, modularity of
// the pod partition over the coupling graph, hidden couplings in and across.
func quality(comps []Component, couplings []Coupling, podOf map[string]string) Quality {
	q := Quality{Couplings: len(couplings)}
	index := map[string]int64{}
	g := simple.NewWeightedUndirectedGraph(0, 0)
	for i, c := range comps {
		index[c.Name] = int64(i)
		g.AddNode(simple.Node(i))
	}
	for _, c := range couplings {
		q.Bytes += c.Bytes
		if c.CrossesPods {
			q.CouplingsCut++
			q.BytesCut += c.Bytes
		}
		switch {
		case c.Hidden && c.CrossesPods:
			q.HiddenCrossing++
		case c.Hidden:
			q.HiddenInsidePods++
		}
		// A coupling among k components adds a star of k-1 edges around
		// its first writer or client (its first component if it has none):
		// linear in k, where a clique would be quadratic.
		hub := c.Components[0]
		if len(c.From) > 0 {
			hub = c.From[0]
		}
		for _, n := range c.Components {
			if n == hub {
				continue
			}
			a, b := index[hub], index[n]
			w := 1 + math.Log1p(float64(c.Bytes))
			if old := g.WeightedEdge(a, b); old != nil {
				w += old.Weight()
			}
			g.SetWeightedEdge(g.NewWeightedEdge(simple.Node(a), simple.Node(b), w))
		}
	}
	if g.Edges().Len() > 0 {
		byPod := map[string][]gonum.Node{}
		for _, c := range comps {
			byPod[podOf[c.Name]] = append(byPod[podOf[c.Name]], simple.Node(index[c.Name]))
		}
		names := make([]string, 0, len(byPod))
		for k := range byPod {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts [][]gonum.Node
		for _, k := range names {
			parts = append(parts, byPod[k])
		}
		q.Modularity = math.Round(community.Q(g, parts, 1)*1e4) / 1e4
	}
	return q
}

// warnings lists what a person must look at before committing to the plan.
func warnings(p *Plan, podOf map[string]string) []Warning {
	var out []Warning
	for _, c := range p.Couplings {
		if !c.CrossesPods || !c.Hidden {
			continue
		}
		sev := "high"
		if c.Kind == KindConfig {
			sev = "info"
		}
		out = append(out, Warning{Severity: sev, Message: fmt.Sprintf("%s crosses pods (%s): %s", c.label(), joinNames(c.Components), c.Remedy)})
		if (c.Kind == KindFile || c.Kind == KindDir) && len(c.From) > 0 && writersInPods(c.From, podOf) > 1 {
			out = append(out, Warning{Severity: "high", Message: fmt.Sprintf("%s is written from %d pods: it needs a ReadWriteMany volume or a redesign", c.Resource, writersInPods(c.From, podOf))})
		}
	}
	for _, b := range p.BlindSpots {
		if b.Count > 0 {
			out = append(out, Warning{Severity: "info", Message: fmt.Sprintf("blind spot: %s (%d)", b.What, b.Count)})
		}
	}
	return out
}

func writersInPods(writers []string, podOf map[string]string) int {
	pods := map[string]bool{}
	for _, w := range writers {
		pods[podOf[w]] = true
	}
	return len(pods)
}

// normalize sorts every list in the plan and replaces nil slices by empty
// ones, so that the JSON is stable and has no nulls.
func normalize(p *Plan) {
	for _, l := range []*[]string{&p.Excluded.ShareNothing, &p.Excluded.Ignored, &p.Order, &p.Hosts} {
		if *l == nil {
			*l = []string{}
		}
	}
	if p.BlindSpots == nil {
		p.BlindSpots = []BlindSpot{}
	}
	if p.Warnings == nil {
		p.Warnings = []Warning{}
	}
	if p.Couplings == nil {
		p.Couplings = []Coupling{}
	}
	sort.Slice(p.BlindSpots, func(i, j int) bool {
		a, b := p.BlindSpots[i], p.BlindSpots[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.What < b.What
	})
	sort.Slice(p.Pods, func(i, j int) bool { return p.Pods[i].Components[0] < p.Pods[j].Components[0] })
	for i := range p.Pods {
		normalizePod(&p.Pods[i])
	}
}

func normalizePod(pod *Pod) {
	sort.Strings(pod.Components)
	sort.Slice(pod.Services, func(a, b int) bool {
		x, y := pod.Services[a], pod.Services[b]
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.Port < y.Port
	})
	for j := range pod.Services {
		pod.Services[j].Clients = sortUnique(pod.Services[j].Clients)
	}
	sort.Slice(pod.ConfigMaps, func(a, b int) bool { return pod.ConfigMaps[a].Name < pod.ConfigMaps[b].Name })
	for j := range pod.ConfigMaps {
		pod.ConfigMaps[j].Files = sortUnique(pod.ConfigMaps[j].Files)
		pod.ConfigMaps[j].Components = sortUnique(pod.ConfigMaps[j].Components)
	}
	sort.Slice(pod.Secrets, func(a, b int) bool { return pod.Secrets[a].Name < pod.Secrets[b].Name })
	pod.Why = sortUnique(pod.Why)
	if pod.Services == nil {
		pod.Services = []Service{}
	}
	if pod.Volumes == nil {
		pod.Volumes = []Volume{}
	}
	if pod.ConfigMaps == nil {
		pod.ConfigMaps = []ConfigMap{}
	}
	if pod.Secrets == nil {
		pod.Secrets = []Secret{}
	}
}

// couplingID derives a short stable ID from what identifies a coupling.
func couplingID(c *Coupling) string {
	h := sha256.Sum256([]byte(string(c.Kind) + "\x00" + c.Resource + "\x00" + strings.Join(c.Components, "\x00")))
	return "c" + hex.EncodeToString(h[:5])
}
