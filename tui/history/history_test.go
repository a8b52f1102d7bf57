package history

import (
	"errors"
	"testing"

	"github.com/decompose-dev/decompose/graph"
)

func plan() *graph.Plan {
	return &graph.Plan{
		Components: []graph.Component{{Name: "a"}, {Name: "b"}},
		Pods:       []graph.Pod{{Name: "a", Components: []string{"a", "b"}}},
	}
}

func rename(name string) func(*graph.Plan) (string, error) {
	return func(p *graph.Plan) (string, error) { p.Pods[0].Name = name; return "rename to " + name, nil }
}

func TestApplyUndoRedoDirty(t *testing.T) {
	h := New(plan())
	if h.Dirty() || h.CanUndo() || h.CanRedo() {
		t.Fatal("a new history is dirty or has steps")
	}
	orig := h.Current()
	if _, err := h.Apply(rename("x")); err != nil {
		t.Fatal(err)
	}
	if h.Current() == orig || orig.Pods[0].Name != "a" || h.Current().Pods[0].Name != "x" {
		t.Fatal("Apply changed the snapshot it copied")
	}
	if !h.Dirty() || len(h.Edits()) != 1 {
		t.Fatalf("after an edit: dirty %v, edits %v", h.Dirty(), h.Edits())
	}
	if label, ok := h.Undo(); !ok || label != "rename to x" || h.Current() != orig || h.Dirty() {
		t.Fatalf("undo: %q %v", label, ok)
	}
	if _, ok := h.Redo(); !ok || h.Current().Pods[0].Name != "x" {
		t.Fatal("redo")
	}
	h.MarkSaved(h.Current())
	if h.Dirty() {
		t.Fatal("dirty right after saving")
	}
	h.Undo()
	h.Apply(rename("y")) // forgets the saved snapshot's branch
	if !h.Dirty() || h.CanRedo() || len(h.Edits()) != 1 || h.Edits()[0] != "rename to y" {
		t.Fatalf("a new branch: dirty %v, edits %v", h.Dirty(), h.Edits())
	}
	h.Undo()
	if !h.Dirty() {
		t.Fatal("back at the loaded plan, but the file on disk has the forgotten edit: must be dirty")
	}
}

func TestFailedEditChangesNothing(t *testing.T) {
	h := New(plan())
	want := errors.New("refused")
	if _, err := h.Apply(func(p *graph.Plan) (string, error) { p.Pods = nil; return "", want }); !errors.Is(err, want) {
		t.Fatalf("error %v", err)
	}
	if h.CanUndo() || len(h.Current().Pods) != 1 {
		t.Fatal("a failed edit changed the history")
	}
}
