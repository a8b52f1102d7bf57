// Package intent defines the messages a view sends to the root model of the
// terminal UI when a key asks for more than the view itself can do: open a
// component or a coupling, or edit the plan. Only the root model changes the
// plan, so that every edit goes through undo history.
package intent

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
)

// OpenComponent asks to show one component.
type OpenComponent struct{ Name string }

// OpenPod asks to show one pod.
type OpenPod struct{ Name string }

// OpenCoupling asks to show one coupling, named by CouplingKey.
type OpenCoupling struct{ Key string }

// Move asks which pod Component should move to, then moves it.
type Move struct{ Component string }

// MoveToNewPod moves Component into a pod of its own.
type MoveToNewPod struct{ Component string }

// Merge asks which other pod to merge into Pod, then merges.
type Merge struct{ Pod string }

// Split moves Components out of their pods into one new pod.
type Split struct{ Components []string }

// Notice is a line for the status bar (a key that needs another
// selection, say).
type Notice struct{ Text string }

// Send returns a command that delivers msg.
func Send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// CouplingKey identifies a coupling across edits: edits never change a
// coupling's kind, resource or sides.
func CouplingKey(c graph.Coupling) string {
	return string(c.Kind) + "\x00" + c.Resource + "\x00" + strings.Join(c.Components, "\x00")
}

// FindCoupling returns the coupling of p with this key.
func FindCoupling(p *graph.Plan, key string) (graph.Coupling, bool) {
	for _, c := range p.Couplings {
		if CouplingKey(c) == key {
			return c, true
		}
	}
	return graph.Coupling{}, false
}
