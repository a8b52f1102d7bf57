package graph

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/decompose-dev/decompose/trace/redact"
)

// plan assembles the Plan from the clustered pods.
func (e *engine) plan(included []*component, pods [][]*component, couplings []Coupling) *Plan {
	podOf := map[string]string{}
	names := map[string]bool{}
	p := &Plan{Hosts: e.hosts, Resolution: e.opts.Resolution, Excluded: e.excluded, BlindSpots: e.blind}
	for _, members := range pods {
		lead := leadComponent(members)
		name := uniqueName(dnsName(lead.name), names)
		pod := Pod{Name: name, Workload: "Deployment", RunAsUsers: map[string]uint32{}}
		for _, c := range members {
			pod.Components = append(pod.Components, c.name)
			podOf[c.name] = name
			if c.stateful {
				pod.Workload = "StatefulSet"
			}
			pod.Why = append(pod.Why, e.groupWhy[c]...)
			if uid, ok := mainUID(c); ok {
				pod.RunAsUsers[c.name] = uid
			}
		}
		p.Pods = append(p.Pods, pod)
	}
	for i := range couplings {
		c := &couplings[i]
		for _, n := range c.Components[1:] {
			c.CrossesPods = c.CrossesPods || podOf[n] != podOf[c.Components[0]]
		}
		if !c.CrossesPods && c.Distance != SeparatePods {
			c.Remedy = ""
		}
	}
	p.Couplings = couplings
	byName := e.byName()
	for i := range p.Pods {
		e.fillPod(&p.Pods[i], byName, podOf, couplings)
	}
	for _, c := range included {
		p.Components = append(p.Components, e.componentOut(c))
	}
	p.Order = migrationOrder(p.Pods, couplings, podOf)
	p.Quality = quality(included, couplings, podOf)
	normalize(p)
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

func uniqueName(base string, used map[string]bool) string {
	name := base
	for i := 2; used[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// mainUID is the uid of the component's first process.
func mainUID(c *component) (uint32, bool) {
	if len(c.procs) == 0 {
		return 0, false
	}
	return c.procs[0].p.UID, true
}

// fillPod derives a pod's Services, volumes, ConfigMaps and Secrets.
func (e *engine) fillPod(pod *Pod, byName map[string]*component, podOf map[string]string, couplings []Coupling) {
	in := map[string]bool{}
	for _, n := range pod.Components {
		in[n] = true
	}
	services := map[string]*Service{}
	volumes := map[string]*Volume{}
	addVolume := func(kind, dir, medium, why string, comps []string) {
		v := volumes[dir]
		if v == nil {
			v = &Volume{Kind: kind, Path: dir, Medium: medium, Why: why}
			volumes[dir] = v
		}
		v.Components = append(v.Components, comps...)
	}
	for _, n := range pod.Components {
		c := byName[n]
		for dir := range c.dataDirs {
			addVolume("PersistentVolumeClaim", dir, "", n+" writes and keeps data here", []string{n})
		}
		if c.exposed {
			for l := range c.listens {
				if ep := l[strings.Index(l, ":")+1:]; !isLoopback(ep) {
					addService(services, c.name, l, true, "")
				}
			}
		}
		if secrets := countRedacted(c); secrets > 0 {
			pod.Secrets = append(pod.Secrets, Secret{Name: dnsName(c.name) + "-secrets", Component: c.name, Keys: secrets})
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
				addService(services, server[0], string(c.Kind)+":"+c.Resource, false, strings.Join(c.From, ","))
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
			if len(mine) > 1 {
				pod.ShareProcessNamespace = true
			}
		}
	}
	for _, s := range services {
		pod.Services = append(pod.Services, *s)
	}
	for _, v := range volumes {
		// A data directory stays a PVC even when others share it.
		pod.Volumes = append(pod.Volumes, *v)
	}
	for _, cm := range configs {
		pod.ConfigMaps = append(pod.ConfigMaps, *cm)
	}
	used := map[string]bool{}
	sort.Slice(pod.Volumes, func(i, j int) bool { return pod.Volumes[i].Path < pod.Volumes[j].Path })
	for i := range pod.Volumes {
		pod.Volumes[i].Name = uniqueName(volumeName(pod.Volumes[i].Path), used)
		if len(pod.Volumes[i].Components) > 1 && pod.FSGroup == 0 {
			pod.FSGroup = gidOf(byName[pod.Volumes[i].Components[0]])
		}
	}
}

// addService records a listener reached from other pods or from outside.
func addService(services map[string]*Service, comp, listen string, exposed bool, clients string) {
	proto, ep, _ := strings.Cut(listen, ":")
	port := endpointPort(ep)
	key := comp + "/" + proto + "/" + strconv.Itoa(port)
	s := services[key]
	if s == nil {
		s = &Service{Name: dnsName(comp), Component: comp, Protocol: strings.ToUpper(proto), Port: port, Listen: ep}
		services[key] = s
	}
	s.Exposed = s.Exposed || exposed
	if clients != "" {
		s.Clients = append(s.Clients, strings.Split(clients, ",")...)
	}
}

func gidOf(c *component) uint32 {
	if c == nil || len(c.procs) == 0 {
		return 0
	}
	return c.procs[0].p.GID
}

// countRedacted counts the secrets redacted from the component's command.
func countRedacted(c *component) int {
	n := 0
	for _, a := range c.procs[0].p.Argv {
		n += strings.Count(a, redact.Placeholder)
	}
	return n
}

// componentOut converts a working component to its contract form.
func (e *engine) componentOut(c *component) Component {
	root := c.procs[0].p
	out := Component{Name: c.name, Exe: c.exe, Script: c.script, Processes: len(c.procs), Exposed: c.exposed,
		Stateful: c.stateful, Backing: c.backing, Command: root.Argv, Secrets: countRedacted(c),
		Listens: sortedKeys(c.listens), DataDirs: sortedKeys(c.dataDirs), Users: sortedKeys(c.users)}
	hosts := map[string]bool{}
	uids := map[uint32]bool{}
	for _, x := range c.procs {
		hosts[x.host] = true
		uids[x.p.UID] = true
		out.Members = append(out.Members, Member{Host: x.host, PID: x.p.PID, PPID: x.p.PPID, Exe: x.p.Exe,
			Argv: x.p.Argv, UID: x.p.UID, StartNS: x.p.StartNS, ExitNS: x.p.ExitNS})
	}
	out.Hosts = sortedKeys(hosts)
	for u := range uids {
		out.UIDs = append(out.UIDs, u)
	}
	sort.Slice(out.UIDs, func(i, j int) bool { return out.UIDs[i] < out.UIDs[j] })
	return out
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
		if !c.CrossesPods || len(c.From) == 0 {
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
		var ready []string
		for _, p := range pods {
			if done[p.Name] {
				continue
			}
			free := true
			for d := range deps[p.Name] {
				free = free && done[d]
			}
			if free {
				ready = append(ready, p.Name)
			}
		}
		if len(ready) == 0 { // a cycle: take the first remaining pod
			for _, p := range pods {
				if !done[p.Name] {
					ready = []string{p.Name}
					break
				}
			}
		}
		sort.Strings(ready)
		done[ready[0]] = true
		order = append(order, ready[0])
	}
	return order
}

// quality measures the cut: couplings and bytes crossing pods, modularity of
// the pod partition over the coupling graph, hidden couplings in and across.
func quality(included []*component, couplings []Coupling, podOf map[string]string) Quality {
	q := Quality{Couplings: len(couplings)}
	index := map[string]int64{}
	g := simple.NewWeightedUndirectedGraph(0, 0)
	for i, c := range included {
		index[c.name] = int64(i)
		g.AddNode(simple.Node(i))
	}
	for _, c := range couplings {
		q.Bytes += c.Bytes
		if c.CrossesPods {
			q.CouplingsCut++
			q.BytesCut += c.Bytes
		}
		if c.Hidden && c.CrossesPods {
			q.HiddenCrossing++
		} else if c.Hidden {
			q.HiddenInsidePods++
		}
		w := 1 + math.Log1p(float64(c.Bytes))
		for i := 0; i < len(c.Components); i++ {
			for j := i + 1; j < len(c.Components); j++ {
				a, b := index[c.Components[i]], index[c.Components[j]]
				if old := g.WeightedEdge(a, b); old != nil {
					w += old.Weight()
				}
				g.SetWeightedEdge(g.NewWeightedEdge(simple.Node(a), simple.Node(b), w))
			}
		}
	}
	if g.Edges().Len() > 0 {
		byPod := map[string][]gonum.Node{}
		for name, id := range index {
			byPod[podOf[name]] = append(byPod[podOf[name]], simple.Node(id))
		}
		var parts [][]gonum.Node
		for _, k := range sortedKeys(boolSet(byPod)) {
			parts = append(parts, byPod[k])
		}
		q.Modularity = math.Round(community.Q(g, parts, 1)*1e4) / 1e4
	}
	return q
}

// normalize sorts every list in the plan and replaces nil slices by empty
// ones, so that the JSON is stable and has no nulls.
func normalize(p *Plan) {
	if p.Excluded.ShareNothing == nil {
		p.Excluded.ShareNothing = []string{}
	}
	if p.Excluded.Ignored == nil {
		p.Excluded.Ignored = []string{}
	}
	if p.BlindSpots == nil {
		p.BlindSpots = []BlindSpot{}
	}
	sort.Slice(p.BlindSpots, func(i, j int) bool {
		a, b := p.BlindSpots[i], p.BlindSpots[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.What < b.What
	})
	if p.Couplings == nil {
		p.Couplings = []Coupling{}
	}
	for i := range p.Pods {
		pod := &p.Pods[i]
		sort.Slice(pod.Services, func(a, b int) bool {
			return pod.Services[a].Name+fmt.Sprint(pod.Services[a].Port) < pod.Services[b].Name+fmt.Sprint(pod.Services[b].Port)
		})
		for j := range pod.Services {
			pod.Services[j].Clients = sortUnique(pod.Services[j].Clients)
		}
		for j := range pod.Volumes {
			pod.Volumes[j].Components = sortUnique(pod.Volumes[j].Components)
		}
		sort.Slice(pod.ConfigMaps, func(a, b int) bool { return pod.ConfigMaps[a].Name < pod.ConfigMaps[b].Name })
		for j := range pod.ConfigMaps {
			pod.ConfigMaps[j].Files = sortUnique(pod.ConfigMaps[j].Files)
			pod.ConfigMaps[j].Components = sortUnique(pod.ConfigMaps[j].Components)
		}
		pod.Why = sortUnique(pod.Why)
		for _, l := range []*[]string{&pod.Why} {
			if *l == nil {
				*l = []string{}
			}
		}
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
}

func sortUnique(s []string) []string {
	if s == nil {
		return []string{}
	}
	sort.Strings(s)
	return dedupe(s)
}

func boolSet[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func joinNames(names []string) string { return strings.Join(names, " + ") }

// volumeName names a volume after the last two parts of its path
// (/var/log/app -> log-app), which tell apart /run/app and /var/log/app.
func volumeName(p string) string {
	dir, base := path.Split(path.Clean(p))
	if parent := path.Base(dir); parent != "/" && parent != "." {
		return dnsName(parent + "-" + base)
	}
	return dnsName(base)
}
