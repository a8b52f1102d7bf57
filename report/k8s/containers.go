package k8s

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
)

// pipeGroups splits a pod's components into containers: components tied by
// an anonymous pipe share one (a pipe cannot cross containers), ordered
// writer first; every other component gets its own. Groups keep the order
// of the pod's components.
func pipeGroups(pod graph.Pod, couplings []graph.Coupling) [][]string {
	in := map[string]bool{}
	parent := map[string]string{}
	for _, n := range pod.Components {
		in[n], parent[n] = true, n
	}
	var find func(string) string
	find = func(n string) string {
		for parent[n] != n {
			n = parent[n]
		}
		return n
	}
	feeds := map[string][]string{}
	for _, c := range couplings {
		if c.Kind != graph.KindPipe || len(keep(c.Components, in)) != len(c.Components) {
			continue
		}
		for _, n := range c.Components[1:] {
			parent[find(n)] = find(c.Components[0])
		}
		for _, f := range c.From {
			for _, n := range c.Components {
				if n != f {
					feeds[f] = append(feeds[f], n)
				}
			}
		}
	}
	members := map[string][]string{}
	var roots []string
	for _, n := range pod.Components {
		r := find(n)
		if members[r] == nil {
			roots = append(roots, r)
		}
		members[r] = append(members[r], n)
	}
	groups := make([][]string, len(roots))
	for i, r := range roots {
		groups[i] = pipeOrder(members[r], feeds)
	}
	return groups
}

// pipeOrder orders a group so that every writer comes before its readers
// (ties and cycles broken by name).
func pipeOrder(group []string, feeds map[string][]string) []string {
	indeg := map[string]int{}
	for _, n := range group {
		for _, r := range feeds[n] {
			indeg[r]++
		}
	}
	var out []string
	done := map[string]bool{}
	for len(out) < len(group) {
		next := ""
		for _, n := range group { // group is sorted: the first free one wins
			if !done[n] && indeg[n] == 0 {
				next = n
				break
			}
		}
		if next == "" { // a cycle: take the first left
			for _, n := range group {
				if !done[n] {
					next = n
					break
				}
			}
		}
		done[next] = true
		out = append(out, next)
		for _, r := range feeds[next] {
			indeg[r]--
		}
	}
	return out
}

// fifoPaths lists, per component, the FIFOs it shares with another
// component of the pod: a fresh emptyDir has none, so the container makes
// them before the program starts, as the VM's init script did.
func fifoPaths(pod graph.Pod, couplings []graph.Coupling) map[string][]string {
	in := map[string]bool{}
	for _, n := range pod.Components {
		in[n] = true
	}
	out := map[string][]string{}
	for _, c := range couplings {
		mine := keep(c.Components, in)
		if c.Kind != graph.KindFIFO || len(mine) < 2 || !strings.HasPrefix(c.Resource, "/") {
			continue
		}
		for _, n := range mine {
			out[n] = append(out[n], c.Resource)
		}
	}
	return out
}

// command sets the container's command for the components of group, and
// returns a note when it needs a wrapper script.
func (pb *podBuilder) command(ctr *corev1.Container, group []*graph.Component) string {
	var lines [][]word
	var fifos []string
	for _, c := range group {
		argv := commandOf(c)
		for i := range argv {
			argv[i] = pb.rewrite(argv[i])
		}
		lines = append(lines, argvWords(argv, pb.secretName(c), &pb.refs))
		fifos = append(fifos, pb.fifos[c.Name]...)
	}
	fifos = sortUnique(fifos)
	period, once := schedule(group[0])
	if len(group) == 1 && len(fifos) == 0 && period == 0 && !once {
		ctr.Command = []string{lines[0][0].execForm()}
		for _, w := range lines[0][1:] {
			ctr.Args = append(ctr.Args, w.execForm())
		}
		return ""
	}
	var script []string
	var notes []string
	for _, f := range fifos {
		q := shellQuote(escapeDollar(f))
		script = append(script, fmt.Sprintf("[ -p %s ] || mkfifo -m 0600 %s || [ -p %s ] || exit 1", q, q, q))
	}
	if len(fifos) > 0 {
		notes = append(notes, "makes the FIFO "+strings.Join(fifos, ", ")+" that a fresh emptyDir lacks (the VM's init script made it)")
	}
	pipeline := make([]string, len(lines))
	names := make([]string, len(group))
	for i, l := range lines {
		pipeline[i], names[i] = shellLine(l), group[i].Name
	}
	run := strings.Join(pipeline, " | ")
	if len(group) > 1 {
		notes = append(notes, strings.Join(names, " | ")+": an anonymous pipe ties them, so one container runs the pipeline")
	}
	switch {
	case period > 0:
		script = append(script, "trap 'exit 0' TERM INT", "while :; do", "  "+run, "  sleep "+strconv.FormatInt(period, 10)+" & wait $!", "done")
		notes = append(notes, fmt.Sprintf("%s ran as a job every %ds during the recording (every run exited), so a loop repeats it beside the processes it works on", group[0].Name, period))
	case once:
		script = append(script, run, "trap 'exit 0' TERM INT", "while :; do sleep 3600 & wait $!; done")
		notes = append(notes, group[0].Name+" ran once and exited during the recording: it runs once, then the container idles (an init container or a Job may fit better)")
	case len(group) > 1:
		script = append(script, "trap 'trap - TERM INT; kill 0' TERM INT", run+" &", "wait $!")
	default:
		script = append(script, "exec "+run)
	}
	ctr.Command = []string{"/bin/sh", "-c", strings.Join(script, "\n")}
	return ctr.Name + ": " + strings.Join(notes, "; ")
}

// rewrite applies the pod's address changes to one argv element, noting
// the ones it used.
func (pb *podBuilder) rewrite(s string) string {
	out, used := applyRewrites(s, pb.rws)
	for _, r := range used {
		pb.rewritten[r.from] = r
	}
	return out
}

// secretName is the Secret stub for a component's redacted argv values.
func (pb *podBuilder) secretName(c *graph.Component) string {
	for _, s := range pb.pod.Secrets {
		if s.Component == c.Name {
			return dnsLabel(s.Name, 253)
		}
	}
	return dnsLabel(c.Name, 240) + "-secrets"
}

// ports lists the TCP and UDP ports the components listen on.
func ports(group []*graph.Component) []corev1.ContainerPort {
	seen := map[string]bool{}
	var out []corev1.ContainerPort
	for _, c := range group {
		for _, l := range c.Listens {
			proto, ep, _ := strings.Cut(l, ":")
			if proto != "tcp" && proto != "udp" {
				continue
			}
			port, err := strconv.Atoi(ep[strings.LastIndex(ep, ":")+1:])
			key := proto + "/" + strconv.Itoa(port)
			if err != nil || port < 1 || port > 65535 || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, corev1.ContainerPort{ContainerPort: int32(port), Protocol: corev1.Protocol(strings.ToUpper(proto))})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ContainerPort != out[j].ContainerPort {
			return out[i].ContainerPort < out[j].ContainerPort
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

func sortUnique(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
