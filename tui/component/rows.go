package component

import (
	"fmt"
	"sort"
	"strings"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/table"
	"github.com/decompose-dev/decompose/tui/theme"
)

// rebuild lays out the sections: shared resources, processes, listeners
// and data directories, each filtered.
func (m *Model) rebuild() {
	c, ok := facts.Component(m.plan, m.name)
	if !ok {
		m.table.SetRows(nil)
		return
	}
	var rows []table.Row
	rows = m.section(rows, []string{"PID", "USER", "ARGV", "STARTED", "RAN"}, processRows(c, facts.Origin(m.plan)))
	var extra []table.Row
	for _, l := range c.Listens {
		extra = append(extra, table.Row{Key: "listen:" + l, KeepEnd: true, Cells: []string{"listens", "", l}})
	}
	for _, d := range c.DataDirs {
		extra = append(extra, table.Row{Key: "data:" + d, KeepEnd: true, Cells: []string{"data dir", "writes+keeps", d}})
	}
	rows = m.section(rows, []string{"LISTENS", "", "ADDRESS / DATA DIRECTORY"}, extra)
	rows = m.section(rows, []string{"SHARES", "DIRECTION", "RESOURCE (× crosses pods)", "BYTES", "OPS"}, m.touchRows())
	m.table.SetRows(rows)
}

// section appends a heading and the items the filter keeps; an empty
// section says so.
func (m *Model) section(rows []table.Row, heading []string, items []table.Row) []table.Row {
	rows = append(rows, table.Row{Kind: table.Heading, Cells: heading})
	q := strings.ToLower(m.filter)
	n := 0
	for _, r := range items {
		if q == "" || strings.Contains(strings.ToLower(format.Join(r.Cells, " ")), q) {
			rows = append(rows, r)
			n++
		}
	}
	switch {
	case n == 0 && len(items) == 0:
		rows = append(rows, table.Row{Kind: table.Note, Cells: []string{"", "none"}})
	case n == 0:
		rows = append(rows, table.Row{Kind: table.Note, Cells: []string{"", fmt.Sprintf("none match %q", format.Clean(m.filter))}})
	}
	return rows
}

// touchRows lists the couplings the component takes part in.
func (m *Model) touchRows() []table.Row {
	touches := facts.Touches(m.plan, m.name)
	sort.SliceStable(touches, func(i, j int) bool {
		switch m.sort {
		case ByBytes:
			return touches[i].Bytes > touches[j].Bytes
		case ByCount:
			return touches[i].Count > touches[j].Count
		}
		return false
	})
	rows := make([]table.Row, 0, len(touches))
	for _, t := range touches {
		c := t.Coupling
		res := c.Resource
		var others []string
		for _, n := range c.Components {
			if n != m.name {
				others = append(others, n)
			}
		}
		res += " (with " + strings.Join(others, ", ") + ")"
		r := table.Row{Key: "coupling:" + intent.CouplingKey(c), KeepEnd: true, Cells: []string{
			string(c.Kind), t.Role, res, format.Bytes(t.Bytes), format.Count(t.Count)}}
		if c.CrossesPods {
			r.Cells[0] += " ×"
			r.Style = &theme.Crossing
		}
		rows = append(rows, r)
	}
	return rows
}

// processRows lists the component's processes, with start times counted
// from the first process of the recording.
func processRows(c graph.Component, origin int64) []table.Row {
	rows := make([]table.Row, 0, len(c.Members))
	multiHost := len(c.Hosts) > 1
	for _, p := range c.Members {
		argv := format.Join(p.Argv, " ")
		if argv == "" {
			argv = p.Exe
		}
		if multiHost {
			argv = "[" + p.Host + "] " + argv
		}
		started, ran := "-", "alive"
		if p.StartNS > 0 && origin > 0 {
			started = "+" + format.Duration(p.StartNS-origin)
		}
		if p.ExitNS > 0 && p.StartNS > 0 {
			ran = format.Duration(p.ExitNS - p.StartNS)
		}
		rows = append(rows, table.Row{Key: fmt.Sprintf("process:%s/%d", p.Host, p.PID), Cells: []string{
			fmt.Sprint(p.PID), facts.User(c, p.UID), argv, started, ran}})
	}
	return rows
}
