// Package coupling is the terminal UI's page about one coupling: the
// evidence behind it (both sides with their processes, the resource, bytes
// and operations, first and last seen, hosts), its distance class, why the
// engine drew it, and the remedy when it crosses pods.
package coupling

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/pager"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Model is the page about one coupling.
type Model struct {
	key    string
	title  string
	plan   *graph.Plan
	pager  pager.Model
	filter string
}

// New returns the page for the coupling with this key (intent.CouplingKey).
func New(key string) *Model {
	kind, rest, _ := strings.Cut(key, "\x00")
	res, _, _ := strings.Cut(rest, "\x00")
	return &Model{key: key, title: kind + " " + res, pager: pager.New()}
}

// Title names the page in the breadcrumb.
func (m *Model) Title() string { return m.title }

// Key returns the key of the coupling shown.
func (m *Model) Key() string { return m.key }

// SetPlan shows the coupling as it is in current (edits change whether it
// crosses pods, and its remedy).
func (m *Model) SetPlan(_, current *graph.Plan) {
	m.plan = current
	m.pager.SetContent(m.paras())
}

// SetFilter keeps the lines containing q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.pager.SetFilter(q)
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SetSize gives the page its area.
func (m *Model) SetSize(width, height int) { m.pager.SetSize(width, height) }

// Pager returns the pager, for tests.
func (m *Model) Pager() pager.Model { return m.pager }

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
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.pager.KeyMap().Help()}
}

func (m *Model) paras() []pager.Para {
	c, ok := intent.FindCoupling(m.plan, m.key)
	if !ok {
		return []pager.Para{pager.Text("this coupling is not in the plan")}
	}
	podOf := facts.PodOf(m.plan)
	out := []pager.Para{
		{Text: fmt.Sprintf("%s %s", c.Kind, c.Resource), Style: &theme.Title, Indent: "  "},
		pager.Text(status(c)),
		pager.Text("distance: " + string(c.Distance) + " — " + facts.DistanceMeaning(c.Distance)),
		pager.Text("why: " + c.Why),
	}
	if c.Remedy != "" {
		out = append(out, pager.Styled("remedy: "+c.Remedy, theme.Crossing))
	}
	out = append(out, pager.Blank(), pager.Heading("EVIDENCE"))
	out = append(out, evidence(c, facts.Origin(m.plan))...)
	if len(c.Code) > 0 {
		out = append(out, pager.Blank(), pager.Heading("CODE"))
		for _, s := range c.Code {
			out = append(out, pager.Text(fmt.Sprintf("%s %s %s (%s, %s)", s.Binary, s.Pos, s.Call, s.Function, s.Match)))
		}
	}
	out = append(out, pager.Blank(), pager.Heading("SIDES"))
	for _, n := range c.Components {
		out = append(out, pager.Text(fmt.Sprintf("%s in pod %s%s", n, podOf[n], fromTag(c, n))))
	}
	out = append(out, pager.Blank(), pager.Heading("PROCESSES"))
	for _, e := range c.Evidence.Processes {
		out = append(out, endpoint(e)...)
	}
	if len(c.Evidence.Processes) == 0 {
		out = append(out, pager.Text("no per-process evidence for this kind"))
	}
	return out
}

// status is the one-line verdict: crossing or not, hidden or not.
func status(c graph.Coupling) string {
	s := "stays inside one pod"
	if c.CrossesPods {
		s = "CROSSES PODS"
	}
	if c.Hidden {
		s += " · hidden (invisible to a naive split)"
	}
	return s + " · between " + facts.Sides(c)
}

func fromTag(c graph.Coupling, n string) string {
	for _, f := range c.From {
		if f == n {
			return " (initiates: writes, connects or sends)"
		}
	}
	return ""
}

func evidence(c graph.Coupling, origin int64) []pager.Para {
	ev := c.Evidence
	out := []pager.Para{
		pager.Text(fmt.Sprintf("bytes %s · operations %s", format.Bytes(c.Bytes), format.Count(c.Count))),
		pager.Text("first seen " + format.Time(ev.FirstNS) + since(ev.FirstNS, origin)),
		pager.Text("last seen  " + format.Time(ev.LastNS) + since(ev.LastNS, origin)),
		pager.Text("hosts " + strings.Join(ev.Hosts, ", ")),
	}
	if len(ev.Resources) > 0 {
		s := fmt.Sprintf("resources folded in (%d): %s", max(ev.ResourcesTotal, len(ev.Resources)), strings.Join(ev.Resources, ", "))
		if ev.ResourcesTotal > len(ev.Resources) {
			s += fmt.Sprintf(", and %d more", ev.ResourcesTotal-len(ev.Resources))
		}
		out = append(out, pager.Text(s))
	}
	return out
}

func since(ns, origin int64) string {
	if ns == 0 || origin == 0 {
		return ""
	}
	return " (+" + format.Duration(ns-origin) + ")"
}

func endpoint(e graph.Endpoint) []pager.Para {
	s := fmt.Sprintf("%s pid %d on %s %s", e.Component, e.PID, e.Host, e.Role)
	if e.Reads+e.Writes+e.ReadBytes+e.WriteBytes > 0 {
		s += fmt.Sprintf(": %s reads (%s), %s writes (%s)", format.Count(e.Reads), format.Bytes(e.ReadBytes), format.Count(e.Writes), format.Bytes(e.WriteBytes))
	}
	return []pager.Para{
		pager.Text(s),
		{Text: "    " + e.Exe, Indent: "    ", Style: &theme.Dim},
	}
}
