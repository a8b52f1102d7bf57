// Package format turns values from a plan into short, safe terminal text:
// it removes control sequences, fits text to a display width, and writes
// bytes, durations and times the same way in every view.
//
// Every string that came from a trace (file names, argv, host and component
// names) is attacker-controlled: views pass it through Clean, Fit or Wrap,
// never to the terminal as it is.
package format

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/decompose-dev/decompose/report"
)

// Ellipsis marks text cut to fit.
const Ellipsis = "…"

// Clean shows control characters, escape sequences and invalid UTF-8 as Go
// escapes, so that s stays on one line and cannot drive the terminal.
func Clean(s string) string { return report.Clean(s) }

// Join cleans every element and joins them with sep.
func Join(ss []string, sep string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Clean(s)
	}
	return strings.Join(out, sep)
}

// Fit cleans s and cuts it to at most width display cells, ending with an
// ellipsis when it was cut.
func Fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	s = Clean(s)
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, Ellipsis)
}

// Pad fits s to width and pads it with spaces to exactly width cells, on
// the left when right is true (for numbers).
func Pad(s string, width int, right bool) string {
	s = Fit(s, width)
	gap := width - ansi.StringWidth(s)
	if gap <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", gap) + s
	}
	return s + strings.Repeat(" ", gap)
}

// Wrap cleans s and breaks it into lines of at most width cells, at spaces
// and slashes when it can and anywhere when a word is longer than a line.
// indent is put before every line but the first.
func Wrap(s string, width int, indent string) []string {
	s = Clean(s)
	inner := width - ansi.StringWidth(indent)
	if inner < 8 || ansi.StringWidth(s) <= width {
		return []string{Fit(s, width)}
	}
	first := strings.SplitN(ansi.Wrap(s, width, "/-"), "\n", 2)[0]
	rest := strings.TrimLeft(strings.TrimPrefix(s, first), " ")
	if !strings.HasPrefix(s, first) {
		first, rest = ansi.Truncate(s, width, ""), s[len(ansi.Truncate(s, width, "")):]
	}
	out := []string{first}
	for _, l := range strings.Split(ansi.Wrap(rest, inner, "/-"), "\n") {
		out = append(out, indent+l)
	}
	return out
}

// Bytes writes a byte count for people (1.6 KiB), as the reports do.
func Bytes(n int64) string { return report.Bytes(n) }

// Count writes a count with a thin grouping of thousands (12 345).
func Count(n int64) string {
	s := fmt.Sprint(n)
	if n < 10000 && n > -10000 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Duration writes a span in nanoseconds with the precision a person needs:
// 850µs, 12ms, 1.25s, 3m07s, 2h05m.
func Duration(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < 0:
		return "-" + Duration(-ns)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	default:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
}

// Time writes a trace timestamp (nanoseconds since the epoch) in UTC with
// milliseconds; 0 means the trace did not see it.
func Time(ns int64) string {
	if ns == 0 {
		return "not seen"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// Plural writes "1 pod" or "3 pods".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
