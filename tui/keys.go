package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap are the bindings the root model handles in every view.
type keyMap struct {
	Quit, Help, Filter, NextTab, PrevTab, Back key.Binding
	Tabs                                       []key.Binding
	Undo, Redo, Save                           key.Binding
	Confirm, Cancel                            key.Binding
}

func defaultKeyMap() keyMap {
	tabs := make([]key.Binding, 0, 5)
	for _, d := range []string{"1", "2", "3", "4", "5"} {
		tabs = append(tabs, key.NewBinding(key.WithKeys(d)))
	}
	return keyMap{
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		NextTab: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab/1-5", "next view")),
		PrevTab: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Back:    key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back / clear filter")),
		Tabs:    tabs,
		Undo:    key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo")),
		Redo:    key.NewBinding(key.WithKeys("ctrl+r", "U"), key.WithHelp("U/ctrl+r", "redo")),
		Save:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "save")),
		Confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// helpKeys joins the active view's bindings and the global ones, for the
// help bar.
type helpKeys struct {
	view   help.KeyMap
	global keyMap
}

func (h helpKeys) ShortHelp() []key.Binding {
	g := h.global
	return append(h.view.ShortHelp(), g.Filter, g.Undo, g.Save, g.Help, g.Quit)
}

func (h helpKeys) FullHelp() [][]key.Binding {
	g := h.global
	return append(h.view.FullHelp(),
		[]key.Binding{g.NextTab, g.PrevTab, g.Back, g.Filter},
		[]key.Binding{g.Undo, g.Redo, g.Save, g.Help, g.Quit})
}

// inputKeys is the help for a text prompt (filter, file name).
type inputKeys struct{ global keyMap }

func (i inputKeys) ShortHelp() []key.Binding { return []key.Binding{i.global.Confirm, i.global.Cancel} }
func (i inputKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{i.ShortHelp()}
}

// confirmKeys is the help while asking whether to quit without saving.
type confirmKeys struct{}

func (confirmKeys) ShortHelp() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "quit without saving")),
		key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "save, then quit")),
		key.NewBinding(key.WithKeys("n"), key.WithHelp("n/esc", "stay")),
	}
}
func (c confirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }
