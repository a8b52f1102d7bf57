package images

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// builder holds what every image of one plan needs.
type builder struct {
	plan  *graph.Plan
	ix    *traceIndex
	fs    hostFS
	libs  *libResolver
	comps map[string]*graph.Component
	opts  Options
}

func newBuilder(plan *graph.Plan, traces []*trace.Trace, o Options) *builder {
	h := hostFS{root: o.Root}
	b := &builder{plan: plan, ix: newTraceIndex(traces), fs: h, libs: newLibResolver(h), comps: map[string]*graph.Component{}, opts: o}
	for i := range plan.Components {
		b.comps[plan.Components[i].Name] = &plan.Components[i]
	}
	return b
}

func (b *builder) pod(name string) *graph.Pod {
	for i := range b.plan.Pods {
		if b.plan.Pods[i].Name == name {
			return &b.plan.Pods[i]
		}
	}
	return nil
}

// containerGroups splits a pod's components into containers as the
// manifests do: components tied by an anonymous pipe share one, every
// other component has its own; groups keep the order of the pod's
// components.
func containerGroups(pod graph.Pod, couplings []graph.Coupling) [][]string {
	parent := map[string]string{}
	for _, n := range pod.Components {
		parent[n] = n
	}
	find := func(n string) string {
		for parent[n] != n {
			n = parent[n]
		}
		return n
	}
	for _, c := range couplings {
		inside := true
		for _, n := range c.Components {
			_, ok := parent[n]
			inside = inside && ok
		}
		if c.Kind != graph.KindPipe || !inside {
			continue
		}
		for _, n := range c.Components[1:] {
			parent[find(n)] = find(c.Components[0])
		}
	}
	index := map[string]int{}
	var groups [][]string
	for _, n := range pod.Components {
		r := find(n)
		i, ok := index[r]
		if !ok {
			i = len(groups)
			index[r] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], n)
	}
	return groups
}

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// lead is the component a container is named after (the manifests name it
// after the first of its pipeline, the writer).
func (b *builder) lead(ctr *corev1.Container, group []string) *graph.Component {
	for _, n := range group {
		if strings.Trim(notLabel.ReplaceAllString(strings.ToLower(n), "-"), "-") == ctr.Name {
			return b.comps[n]
		}
	}
	return b.comps[group[0]]
}

// image drafts the image of one container.
func (b *builder) image(pod graph.Pod, ctr *corev1.Container, group []string) (*Image, error) {
	lead := b.lead(ctr, group)
	if lead == nil {
		return nil, fmt.Errorf("images: pod %s names unknown component %q", pod.Name, group[0])
	}
	img := &Image{Name: ctr.Name, Ref: PlaceholderImage(ctr.Name), Pod: pod.Name, Components: group, Official: official(ctr)}
	inv := newInventory(b)
	for _, n := range group {
		inv.component(b.comps[n], pod)
	}
	inv.wrapper(ctr)
	inv.close()
	img.Files, img.Dirs, img.Tree = inv.result(pod, ctr)
	img.Gaps = inv.gaps
	img.Closed = len(img.Gaps) == 0
	b.identity(img, lead, group, pod)
	img.Cmd = b.cmd(ctr, lead, group)
	return img, nil
}

// identity sets the user, the observed uids and the ports of an image.
func (b *builder) identity(img *Image, lead *graph.Component, group []string, pod graph.Pod) {
	if uid, ok := pod.RunAsUsers[lead.Name]; ok {
		img.User = uid
	} else if len(lead.Members) > 0 {
		img.User = lead.Members[0].UID
	}
	if len(lead.Members) > 0 {
		img.GID = lead.Members[0].GID
	}
	uids := map[uint32]bool{}
	ports := map[string]bool{}
	for _, n := range group {
		c := b.comps[n]
		for _, u := range c.UIDs {
			uids[u] = true
		}
		for _, l := range c.Listens {
			proto, ep, _ := strings.Cut(l, ":")
			port, err := strconv.Atoi(ep[strings.LastIndex(ep, ":")+1:])
			if (proto == "tcp" || proto == "udp") && err == nil && port > 0 && port < 65536 {
				ports[strconv.Itoa(port)+"/"+proto] = true
			}
		}
	}
	for u := range uids {
		img.UIDs = append(img.UIDs, u)
	}
	sort.Slice(img.UIDs, func(i, j int) bool { return img.UIDs[i] < img.UIDs[j] })
	for p := range ports {
		img.Expose = append(img.Expose, p)
	}
	sort.Slice(img.Expose, func(i, j int) bool { return portLess(img.Expose[i], img.Expose[j]) })
}

func portLess(a, b string) bool {
	na, _ := strconv.Atoi(strings.Split(a, "/")[0])
	nb, _ := strconv.Atoi(strings.Split(b, "/")[0])
	if na != nb {
		return na < nb
	}
	return a < b
}

// cmd is the image's default command: the recorded command line (argv[0]
// made absolute; redacted values stay redacted), or, for a pipeline of
// components, the manifests' command that runs it.
func (b *builder) cmd(ctr *corev1.Container, lead *graph.Component, group []string) []string {
	if len(group) > 1 && len(ctr.Command) > 0 {
		return append(append([]string(nil), ctr.Command...), ctr.Args...)
	}
	argv := append([]string(nil), lead.Command...)
	if len(argv) == 0 {
		return []string{lead.Exe}
	}
	if !path.IsAbs(argv[0]) && path.IsAbs(lead.Exe) {
		argv[0] = lead.Exe
	}
	return argv
}

// lookPath finds a program as a shell would on the host, below root.
func (b *builder) lookPath(name string) string {
	for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := path.Join(d, name)
		if fi, err := b.fs.lstat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}
