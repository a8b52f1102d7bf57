// Package tui is the terminal UI of decompose: it lets a person explore a
// decomposition plan (pods, components, couplings with their evidence,
// warnings, blind spots) and try changes before committing to them (move a
// component, merge or split pods) with undo, a diff from the loaded plan,
// and saving the edited plan as JSON that decompose reads back with --plan.
//
// The root Model holds the state (loading, browsing, filtering, choosing a
// pod, naming the save file, confirming quit), the undo history and the
// views; each view is a child model in its own package with Init, Update,
// View, SetSize and a key map. Views never change the plan: they send the
// messages of package intent, and the root applies edits through graph.Plan
// methods (which recompute crossings, quality and warnings) on a snapshot.
//
// No I/O happens in Update: loading and saving run as commands. Every string
// from a trace is cleaned (package format) before it reaches the terminal.
package tui
