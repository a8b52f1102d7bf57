// Package facts derives what the views of the terminal UI show about a
// plan but the plan does not store: which pod holds a component, the
// couplings touching a pod or a component and what it moved through each,
// and words for the engine's codes. Every function only reads the plan.
package facts

import (
	"fmt"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// PodOf maps component names to the name of their pod.
func PodOf(p *graph.Plan) map[string]string {
	m := map[string]string{}
	for _, pod := range p.Pods {
		for _, c := range pod.Components {
			m[c] = pod.Name
		}
	}
	return m
}

// Component returns the component with this name.
func Component(p *graph.Plan, name string) (graph.Component, bool) {
	for _, c := range p.Components {
		if c.Name == name {
			return c, true
		}
	}
	return graph.Component{}, false
}

// Pod returns the pod with this name.
func Pod(p *graph.Plan, name string) (graph.Pod, bool) {
	for _, pod := range p.Pods {
		if pod.Name == name {
			return pod, true
		}
	}
	return graph.Pod{}, false
}

// Stats counts the couplings touching a set of components (a pod, or one
// component): Inside stay within one pod, Crossing cross a pod boundary;
// Bytes and Count add up both.
type Stats struct {
	Inside, Crossing int
	Bytes, Count     int64
}

// Touching is the number of couplings counted.
func (s Stats) Touching() int { return s.Inside + s.Crossing }

// StatsOf returns the figures for the couplings touching any of names.
func StatsOf(p *graph.Plan, names ...string) Stats {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	var s Stats
	for _, c := range p.Couplings {
		mine := 0
		for _, n := range c.Components {
			if in[n] {
				mine++
			}
		}
		if mine == 0 {
			continue
		}
		if c.CrossesPods {
			s.Crossing++
		} else {
			s.Inside++
		}
		s.Bytes += c.Bytes
		s.Count += c.Count
	}
	return s
}

// Touch is one coupling seen from one of its components: what that
// component did and how much it moved.
type Touch struct {
	Coupling graph.Coupling
	// Role is how the component takes part, in short verbs: "write",
	// "connect/write/read", ...
	Role         string
	Bytes, Count int64
}

// Touches returns the couplings component name takes part in, in plan
// order, with its own share of the evidence.
func Touches(p *graph.Plan, name string) []Touch {
	var out []Touch
	for _, c := range p.Couplings {
		if !contains(c.Components, name) {
			continue
		}
		t := Touch{Coupling: c}
		var roles []string
		for _, e := range c.Evidence.Processes {
			if e.Component != name {
				continue
			}
			roles = append(roles, strings.Split(e.Role, ", ")...)
			t.Bytes += e.ReadBytes + e.WriteBytes
			t.Count += e.Reads + e.Writes
		}
		t.Role = verbs.Replace(strings.Join(unique(roles), "/"))
		if t.Role == "" {
			t.Role = sideOf(c, name)
		}
		if t.Bytes == 0 && t.Count == 0 { // no I/O counted per process (a signal, a rename)
			t.Bytes, t.Count = c.Bytes, c.Count
		}
		out = append(out, t)
	}
	return out
}

// sideOf names the side name is on when the evidence lists no process.
func sideOf(c graph.Coupling, name string) string {
	if len(c.From) == 0 {
		return "shares"
	}
	if contains(c.From, name) {
		return "from"
	}
	return "to"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// verbs shortens the engine's roles for a narrow column.
var verbs = strings.NewReplacer("listens", "listen", "accepts", "accept", "connects", "connect", "creates", "create",
	"renames", "rename", "removes", "remove", "maps shared", "map", "writes", "write", "reads", "read")

// unique drops empty and repeated strings, keeping the first of each.
func unique(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Origin returns the earliest start time in the plan (nanoseconds), from
// which the views count process lifetimes; 0 when no time was recorded.
func Origin(p *graph.Plan) int64 {
	var o int64
	for _, c := range p.Components {
		for _, m := range c.Members {
			if m.StartNS > 0 && (o == 0 || m.StartNS < o) {
				o = m.StartNS
			}
		}
	}
	return o
}

// User names the user a member ran as: the component's user name when it
// ran as a single user, else the uid.
func User(c graph.Component, uid uint32) string {
	if len(c.Users) == 1 && len(c.UIDs) == 1 && c.UIDs[0] == uid {
		return c.Users[0]
	}
	return fmt.Sprintf("uid %d", uid)
}

// Traits lists what kind of component c is, or "-".
func Traits(c graph.Component) string {
	var t []string
	if c.Exposed {
		t = append(t, "exposed")
	}
	if c.Stateful {
		t = append(t, "stateful")
	}
	if c.Backing && !c.Stateful {
		t = append(t, "backing")
	}
	if c.Script != "" {
		t = append(t, "script")
	}
	if len(t) == 0 {
		return "-"
	}
	return strings.Join(t, ",")
}

// DistanceMeaning says in words what a distance class allows.
func DistanceMeaning(d graph.Distance) string {
	switch d {
	case graph.SameContainer:
		return "same container: never split"
	case graph.SamePod:
		return "same pod by default: a change allows a split"
	case graph.SeparatePods:
		return "separate pods: reach the other side through a Service"
	case graph.AnyDistance:
		return "any distance: read-only configuration, served by a ConfigMap"
	}
	return string(d)
}

// Sides writes a coupling's components, the initiating side first
// ("shop-web -> shop-app" or "shop-app + shop-web").
func Sides(c graph.Coupling) string {
	if len(c.From) == 0 {
		return strings.Join(c.Components, " + ")
	}
	var to []string
	for _, n := range c.Components {
		if !contains(c.From, n) {
			to = append(to, n)
		}
	}
	if len(to) == 0 {
		return strings.Join(c.From, " + ")
	}
	return strings.Join(c.From, " + ") + " -> " + strings.Join(to, " + ")
}
