// Package pod is the terminal UI's page about one proposed pod: why its
// components are together, its workload kind, and what the manifests will
// give it (Services, volumes, ConfigMaps, Secrets, security context), with
// the couplings that cross its boundary.
package pod

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/pager"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Model is the page about one pod.
type Model struct {
	name   string
	pager  pager.Model
	filter string
}

// New returns the page for pod name; SetPlan fills it.
func New(name string) *Model { return &Model{name: name, pager: pager.New()} }

// Title names the page in the breadcrumb.
func (m *Model) Title() string { return "pod " + m.name }

// Name returns the pod shown.
func (m *Model) Name() string { return m.name }

// SetPlan shows the pod as it is in current.
func (m *Model) SetPlan(_, current *graph.Plan) { m.pager.SetContent(paras(current, m.name)) }

// SetFilter keeps the lines containing q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.pager.SetFilter(q)
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SetSize gives the page its area.
func (m *Model) SetSize(width, height int) { m.pager.SetSize(width, height) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update scrolls.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.pager.Update(msg)
	return m, nil
}

// View draws the page.
func (m *Model) View() string { return m.pager.View() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.pager.KeyMap()
	return []key.Binding{k.Down, k.PageDown}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.pager.KeyMap().Help()} }

func paras(p *graph.Plan, name string) []pager.Para {
	pod, ok := facts.Pod(p, name)
	if !ok {
		return []pager.Para{pager.Text(fmt.Sprintf("pod %s is no longer in the plan: an edit merged or emptied it (u undoes)", name))}
	}
	s := facts.StatsOf(p, pod.Components...)
	out := []pager.Para{
		{Text: fmt.Sprintf("pod %s · %s · %s", pod.Name, pod.Workload, strings.Join(pod.Components, ", ")), Style: &theme.Title, Indent: "  "},
		pager.Text(fmt.Sprintf("%d couplings inside, %d crossing its boundary", s.Inside, s.Crossing)),
		pager.Blank(), pager.Heading("WHY THESE COMPONENTS ARE TOGETHER"),
	}
	switch {
	case len(pod.Why) > 0:
		out = append(out, list(pod.Why, func(w string) string { return "- " + w })...)
	case len(pod.Components) == 1:
		out = append(out, pager.Text("- one component: nothing ties it to another"))
	default:
		out = append(out, pager.Text("- the engine recorded no reason"))
	}
	out = append(out, pager.Blank(), pager.Heading("WHAT THE MANIFESTS GIVE IT"))
	out = append(out, resources(pod)...)
	out = append(out, pager.Blank(), pager.Heading("COUPLINGS CROSSING ITS BOUNDARY"))
	out = append(out, crossing(p, pod)...)
	return out
}

func resources(pod graph.Pod) []pager.Para {
	var out []pager.Para
	for _, s := range pod.Services {
		t := fmt.Sprintf("- Service %s %s/%d for %s", s.Name, s.Protocol, s.Port, s.Component)
		if s.Exposed {
			t += ", exposed outside the application"
		}
		if len(s.Clients) > 0 {
			t += ", clients " + strings.Join(s.Clients, ", ")
		}
		out = append(out, pager.Text(t))
	}
	for _, v := range pod.Volumes {
		out = append(out, pager.Text(fmt.Sprintf("- %s %s at %s: %s", v.Kind, v.Name, v.Path, v.Why)))
	}
	for _, c := range pod.ConfigMaps {
		t := fmt.Sprintf("- ConfigMap %s: %s", c.Name, strings.Join(c.Files, ", "))
		if c.Shared {
			t += " (shared with other pods)"
		}
		out = append(out, pager.Text(t))
	}
	for _, s := range pod.Secrets {
		out = append(out, pager.Text(fmt.Sprintf("- Secret %s: %d redacted values of %s", s.Name, s.Keys, s.Component)))
	}
	if pod.ShareProcessNamespace {
		out = append(out, pager.Text("- shareProcessNamespace: a signal crosses its containers"))
	}
	users := make([]string, 0, len(pod.RunAsUsers))
	for c, u := range pod.RunAsUsers {
		users = append(users, fmt.Sprintf("%s as uid %d", c, u))
	}
	sort.Strings(users)
	if len(users) > 0 {
		out = append(out, pager.Text("- runs "+strings.Join(users, ", ")))
	}
	if pod.FSGroup != 0 {
		out = append(out, pager.Text(fmt.Sprintf("- fsGroup %d for its shared volumes", pod.FSGroup)))
	}
	return orNone(out)
}

func crossing(p *graph.Plan, pod graph.Pod) []pager.Para {
	in := map[string]bool{}
	for _, c := range pod.Components {
		in[c] = true
	}
	var out []pager.Para
	for _, c := range p.Couplings {
		touches := false
		for _, n := range c.Components {
			touches = touches || in[n]
		}
		if touches && c.CrossesPods {
			out = append(out, pager.Styled(fmt.Sprintf("- %s %s (%s): %s", c.Kind, c.Resource, facts.Sides(c), c.Remedy), theme.Crossing))
		}
	}
	return orNone(out)
}

func list(ss []string, f func(string) string) []pager.Para {
	out := make([]pager.Para, 0, len(ss))
	for _, s := range ss {
		out = append(out, pager.Text(f(s)))
	}
	return orNone(out)
}

func orNone(ps []pager.Para) []pager.Para {
	if len(ps) == 0 {
		return []pager.Para{pager.Text("none")}
	}
	return ps
}
