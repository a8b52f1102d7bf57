package tui

import (
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/component"
	"github.com/decompose-dev/decompose/tui/coupling"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/picker"
	"github.com/decompose-dev/decompose/tui/pod"
)

// open pushes the page for a component or a coupling.
func (m *Model) open(msg tea.Msg) {
	var v view
	switch msg := msg.(type) {
	case intent.OpenComponent:
		v = component.New(msg.Name)
	case intent.OpenCoupling:
		v = coupling.New(msg.Key)
	case intent.OpenPod:
		v = pod.New(msg.Name)
	}
	v.SetPlan(m.hist.Original(), m.hist.Current())
	v.SetSize(m.sized[0], m.sized[1])
	m.stack = append(m.stack, v)
}

// edit applies an edit intent, or opens the picker that completes it.
func (m *Model) edit(msg tea.Msg) {
	switch msg := msg.(type) {
	case intent.Move:
		m.pick(pending{name: msg.Component}, "Move "+msg.Component+" to which pod?", true)
	case intent.Merge:
		m.pick(pending{merge: true, name: msg.Pod}, "Merge which pod into "+msg.Pod+"?", false)
	case intent.MoveToNewPod:
		m.apply(func(p *graph.Plan) (string, error) { return move(p, msg.Component, "") })
	case intent.Split:
		m.apply(func(p *graph.Plan) (string, error) {
			name, err := p.Split(msg.Components)
			return fmt.Sprintf("split %s into new pod %s", strings.Join(msg.Components, ", "), name), err
		})
	}
}

// pick opens a picker listing the pods other than the one concerned.
func (m *Model) pick(p pending, title string, offerNew bool) {
	p2 := m.hist.Current()
	skip := p.name
	if !p.merge {
		skip = facts.PodOf(p2)[p.name]
	}
	var opts []picker.Option
	if offerNew {
		opts = append(opts, picker.Option{Value: "", Label: "a new pod of its own"})
	}
	for _, pod := range p2.Pods {
		if pod.Name != skip {
			opts = append(opts, picker.Option{Value: pod.Name, Label: fmt.Sprintf("%s (%s)", pod.Name, strings.Join(pod.Components, ", "))})
		}
	}
	if len(opts) == 0 {
		m.status = status{text: "there is no other pod", kind: statusError}
		return
	}
	m.pending, m.state = p, statePick
	m.picker = picker.New(title, opts)
	m.picker.SetSize(m.sized[0], m.sized[1])
}

func (m *Model) picked(msg tea.Msg) tea.Cmd {
	m.state = stateBrowse
	chosen, ok := msg.(picker.Chosen)
	if !ok {
		m.status = status{text: "cancelled"}
		return nil
	}
	p := m.pending
	if p.merge {
		m.apply(func(plan *graph.Plan) (string, error) {
			return fmt.Sprintf("merge pod %s into %s", chosen.Value, p.name), plan.Merge(p.name, chosen.Value)
		})
		return nil
	}
	m.apply(func(plan *graph.Plan) (string, error) { return move(plan, p.name, chosen.Value) })
	return nil
}

// move moves comp to pod to ("" for a new pod) and labels the edit.
func move(p *graph.Plan, comp, to string) (string, error) {
	from := facts.PodOf(p)[comp]
	if err := p.Move(comp, to); err != nil {
		return "", err
	}
	now := facts.PodOf(p)[comp]
	if to == "" {
		return fmt.Sprintf("move %s from %s to new pod %s", comp, from, now), nil
	}
	return fmt.Sprintf("move %s from %s to %s", comp, from, now), nil
}

// apply runs an edit through the history and reports what changed, or
// why the engine refused it.
func (m *Model) apply(edit func(*graph.Plan) (string, error)) {
	before := m.hist.Current()
	label, err := m.hist.Apply(edit)
	switch {
	case errors.Is(err, graph.ErrSameContainer):
		m.status = status{text: "refused: " + format.Clean(err.Error()), kind: statusError}
		return
	case err != nil:
		m.status = status{text: "cannot: " + format.Clean(err.Error()), kind: statusError}
		return
	}
	m.syncViews()
	m.status = status{text: label + " · " + effect(before, m.hist.Current()), kind: statusOK}
}

// effect sums up what an edit changed in the figures a person watches.
func effect(a, b *graph.Plan) string {
	return fmt.Sprintf("%d/%d couplings cross (was %d), warnings %d (was %d), modularity %.2f (was %.2f)",
		b.Quality.CouplingsCut, b.Quality.Couplings, a.Quality.CouplingsCut,
		len(b.Warnings), len(a.Warnings), b.Quality.Modularity, a.Quality.Modularity)
}

func (m *Model) undo() {
	label, ok := m.hist.Undo()
	if !ok {
		m.status = status{text: "nothing to undo"}
		return
	}
	m.syncViews()
	m.status = status{text: "undone: " + label}
}

func (m *Model) redo() {
	label, ok := m.hist.Redo()
	if !ok {
		m.status = status{text: "nothing to redo"}
		return
	}
	m.syncViews()
	m.status = status{text: "redone: " + label}
}

// quit leaves at once when everything is saved, else asks.
func (m *Model) quit() tea.Cmd {
	if !m.Dirty() {
		return tea.Quit
	}
	m.state = stateConfirmQuit
	return nil
}

func (m *Model) confirmKey(k tea.KeyMsg) tea.Cmd {
	switch k.String() {
	case "y", "Y", "q", "ctrl+c":
		return tea.Quit
	case "w":
		m.quitAfterSave = true
		return m.askSavePath()
	case "n", "N", "esc":
		m.state = stateBrowse
	}
	return nil
}
