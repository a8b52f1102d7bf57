package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/blindspots"
	"github.com/decompose-dev/decompose/tui/couplinglist"
	"github.com/decompose-dev/decompose/tui/diff"
	"github.com/decompose-dev/decompose/tui/history"
	"github.com/decompose-dev/decompose/tui/overview"
	"github.com/decompose-dev/decompose/tui/picker"
	"github.com/decompose-dev/decompose/tui/theme"
	"github.com/decompose-dev/decompose/tui/warnings"
)

// Options configure the UI.
type Options struct {
	// Load produces the plan: it runs in a command, off the UI loop, while a
	// spinner turns. It may read files and run the engine.
	Load func() (*graph.Plan, error)
	// Source says what Load reads, for the loading screen and the title.
	Source string
	// SavePath is the file w offers to write (the person can change it).
	SavePath string
}

// state is what the root model is doing; it decides where keys go.
type state int

const (
	stateLoading state = iota
	stateFailed
	stateBrowse
	stateFilter
	statePick
	stateSave
	stateConfirmQuit
)

func (s state) String() string {
	return [...]string{"loading", "failed", "browse", "filter", "pick", "save", "confirm-quit"}[s]
}

// view is the contract of every screen: a child model with its own keys
// that is given its size, the plan and a filter.
type view interface {
	tea.Model
	help.KeyMap
	Title() string
	SetSize(width, height int)
	SetPlan(original, current *graph.Plan)
	SetFilter(query string)
	Filter() string
}

// statusKind colours the status line.
type statusKind int

const (
	statusInfo statusKind = iota
	statusOK
	statusError
)

type status struct {
	text string
	kind statusKind
}

// pending is the edit an open picker will complete.
type pending struct {
	merge bool   // merge into pod; else move component
	name  string // the component to move, or the pod to merge into
}

// Model is the root of the UI. Create it with New.
type Model struct {
	opts          Options
	state         state
	width, height int
	spinner       spinner.Model
	hist          *history.History
	tabs          []view
	overview      *overview.Model
	diff          *diff.Model
	tab           int
	stack         []view // pages opened from a tab, newest last
	filter        textinput.Model
	prompt        textinput.Model
	picker        picker.Model
	pending       pending
	help          help.Model
	keys          keyMap
	status        status
	err           error
	savePath      string
	savedTo       string
	saving        bool
	quitAfterSave bool
	sized         [2]int // the content size views were last given
}

// loadedMsg carries the result of Options.Load.
type loadedMsg struct {
	plan *graph.Plan
	err  error
}

// New returns the root model; Init starts loading.
func New(opts Options) *Model {
	m := &Model{opts: opts, savePath: opts.SavePath, keys: defaultKeyMap()}
	m.spinner = spinner.New(spinner.WithSpinner(spinner.Line))
	m.filter = newInput("/ ")
	m.prompt = newInput("save plan to: ")
	m.help = help.New()
	m.help.Styles.ShortKey, m.help.Styles.FullKey = theme.Key, theme.Key
	m.help.Styles.ShortDesc, m.help.Styles.FullDesc = theme.KeyDesc, theme.KeyDesc
	m.help.Styles.ShortSeparator, m.help.Styles.FullSeparator, m.help.Styles.Ellipsis = theme.Dim, theme.Dim, theme.Dim
	m.overview, m.diff = overview.New(), diff.New()
	m.tabs = []view{m.overview, couplinglist.New(), warnings.New(), blindspots.New(), m.diff}
	return m
}

func newInput(prompt string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Cursor.SetMode(cursor.CursorStatic) // no blink: deterministic frames
	in.CharLimit = 4096
	return in
}

// Init starts loading the plan.
func (m *Model) Init() tea.Cmd {
	load := m.opts.Load
	return tea.Batch(m.spinner.Tick, func() tea.Msg {
		p, err := load()
		return loadedMsg{plan: p, err: err}
	})
}

// Err returns why loading failed, if it did.
func (m *Model) Err() error { return m.err }

// SavedTo returns the file the plan was last saved to ("" if never).
func (m *Model) SavedTo() string { return m.savedTo }

// Dirty reports whether there are edits not saved to a file.
func (m *Model) Dirty() bool { return m.hist != nil && m.hist.Dirty() }

// Plan returns the plan shown now (nil while loading).
func (m *Model) Plan() *graph.Plan {
	if m.hist == nil {
		return nil
	}
	return m.hist.Current()
}

// active returns the view that gets keys: the newest opened page, else
// the current tab.
func (m *Model) active() view {
	if n := len(m.stack); n > 0 {
		return m.stack[n-1]
	}
	return m.tabs[m.tab]
}
