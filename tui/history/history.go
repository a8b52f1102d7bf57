// Package history keeps the plans a person made while editing, for undo
// and redo: every edit adds a snapshot (graph.Plan.Clone), and moving
// between snapshots recomputes nothing.
package history

import "github.com/decompose-dev/decompose/graph"

// Entry is one state of the plan and the edit that led to it.
type Entry struct {
	Plan  *graph.Plan
	Label string
}

// History is a line of plan snapshots with a current position. The first
// is the plan as loaded (the engine's proposal, or a saved plan).
type History struct {
	entries []Entry
	pos     int
	saved   int // index of the entry last written to a file, -1 if gone
}

// New starts a history at the loaded plan, which counts as saved: leaving
// without edits loses nothing.
func New(p *graph.Plan) *History {
	return &History{entries: []Entry{{Plan: p, Label: "the plan as loaded"}}}
}

// Current returns the plan shown now. Callers must not change it: edits go
// through Apply.
func (h *History) Current() *graph.Plan { return h.entries[h.pos].Plan }

// Original returns the plan as loaded.
func (h *History) Original() *graph.Plan { return h.entries[0].Plan }

// Apply runs edit on a copy of the current plan. When edit succeeds the
// copy becomes current, labelled with what edit returned, and any redo is
// forgotten; when it fails nothing changes and the error is returned as it
// is.
func (h *History) Apply(edit func(*graph.Plan) (label string, err error)) (string, error) {
	next := h.Current().Clone()
	label, err := edit(next)
	if err != nil {
		return "", err
	}
	h.entries = append(h.entries[:h.pos+1], Entry{Plan: next, Label: label})
	h.pos++
	if h.saved >= h.pos {
		h.saved = -1 // the saved snapshot was an undone edit, now forgotten
	}
	return label, nil
}

// Undo goes back one edit and returns its label; ok is false when there
// is nothing to undo.
func (h *History) Undo() (label string, ok bool) {
	if h.pos == 0 {
		return "", false
	}
	label = h.entries[h.pos].Label
	h.pos--
	return label, true
}

// Redo goes forward one undone edit and returns its label.
func (h *History) Redo() (label string, ok bool) {
	if h.pos+1 >= len(h.entries) {
		return "", false
	}
	h.pos++
	return h.entries[h.pos].Label, true
}

// MarkSaved records that p, one of the snapshots, was written to a file.
func (h *History) MarkSaved(p *graph.Plan) {
	for i, e := range h.entries {
		if e.Plan == p {
			h.saved = i
		}
	}
}

// Dirty reports whether the current plan differs from the last one saved.
func (h *History) Dirty() bool { return h.pos != h.saved }

// Edits returns the labels of the edits between the loaded plan and the
// current one, oldest first.
func (h *History) Edits() []string {
	out := make([]string, 0, h.pos)
	for _, e := range h.entries[1 : h.pos+1] {
		out = append(out, e.Label)
	}
	return out
}

// CanUndo and CanRedo report whether Undo and Redo would do anything.
func (h *History) CanUndo() bool { return h.pos > 0 }

// CanRedo reports whether an undone edit can be redone.
func (h *History) CanRedo() bool { return h.pos+1 < len(h.entries) }
