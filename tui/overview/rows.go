package overview

import (
	"fmt"
	"sort"
	"strings"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/table"
	"github.com/decompose-dev/decompose/tui/theme"
)

// rebuild turns the plan, filter, sort order and marks into table rows.
func (m *Model) rebuild() {
	if m.plan == nil {
		return
	}
	comps := map[string]graph.Component{}
	stats := map[string]facts.Stats{} // by "pod:NAME" and "component:NAME"
	for _, c := range m.plan.Components {
		comps[c.Name] = c
		stats["component:"+c.Name] = facts.StatsOf(m.plan, c.Name)
	}
	for _, p := range m.plan.Pods {
		stats["pod:"+p.Name] = facts.StatsOf(m.plan, p.Components...)
	}
	var rows []table.Row
	for _, pod := range m.sortedPods(stats) {
		names := m.matching(pod, comps)
		if len(names) == 0 {
			continue
		}
		rows = append(rows, podRow(pod, stats["pod:"+pod.Name]))
		for _, n := range m.sorted(names, stats) {
			rows = append(rows, m.componentRow(comps[n], stats["component:"+n]))
		}
	}
	if len(rows) == 0 {
		rows = append(rows, table.Row{Kind: table.Note, Cells: []string{fmt.Sprintf("nothing matches %q", format.Clean(m.filter))}})
	}
	m.table.SetRows(rows)
}

func podRow(pod graph.Pod, s facts.Stats) table.Row {
	name := fmt.Sprintf("%s (%s)", pod.Name, format.Plural(len(pod.Components), "component", "components"))
	var svcs []string
	for _, sv := range pod.Services {
		svcs = append(svcs, fmt.Sprintf("%s %s/%d", sv.Name, sv.Protocol, sv.Port))
	}
	return table.Row{Key: "pod:" + pod.Name, Style: &theme.Title, Cells: []string{
		name, strings.Join(svcs, ", "), pod.Workload, fmt.Sprint(s.Inside), fmt.Sprint(s.Crossing), format.Bytes(s.Bytes), format.Count(s.Count),
	}}
}

func (m *Model) componentRow(c graph.Component, s facts.Stats) table.Row {
	return table.Row{Key: "component:" + c.Name, Marked: m.marks[c.Name], Cells: []string{
		"  " + c.Name, strings.Join(c.Listens, ", "), facts.Traits(c), fmt.Sprint(s.Inside), fmt.Sprint(s.Crossing), format.Bytes(s.Bytes), format.Count(s.Count),
	}}
}

// matching returns the pod's components the filter keeps: all of them when
// the pod's name matches.
func (m *Model) matching(pod graph.Pod, comps map[string]graph.Component) []string {
	q := strings.ToLower(m.filter)
	if q == "" || strings.Contains(pod.Name, q) {
		return pod.Components
	}
	var out []string
	for _, n := range pod.Components {
		c := comps[n]
		text := strings.ToLower(strings.Join(append([]string{c.Name, c.Exe, c.Script, facts.Traits(c)}, c.Listens...), "\x00"))
		if strings.Contains(text, q) || strings.Contains(strings.ToLower(format.Clean(text)), q) {
			out = append(out, n)
		}
	}
	return out
}

// sortedPods orders pods by name, or by their couplings' bytes or
// operations, largest first.
func (m *Model) sortedPods(stats map[string]facts.Stats) []graph.Pod {
	pods := append([]graph.Pod(nil), m.plan.Pods...)
	sort.SliceStable(pods, func(i, j int) bool {
		return m.less("pod:"+pods[i].Name, "pod:"+pods[j].Name, stats)
	})
	return pods
}

// sorted orders component names like sortedPods orders pods.
func (m *Model) sorted(names []string, stats map[string]facts.Stats) []string {
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool { return m.less("component:"+out[i], "component:"+out[j], stats) })
	return out
}

// less orders two rows by the sort order, then by name.
func (m *Model) less(a, b string, stats map[string]facts.Stats) bool {
	x, y := stats[a], stats[b]
	switch {
	case m.sort == ByBytes && x.Bytes != y.Bytes:
		return x.Bytes > y.Bytes
	case m.sort == ByCount && x.Count != y.Count:
		return x.Count > y.Count
	}
	return a < b
}
