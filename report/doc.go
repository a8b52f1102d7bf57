// Package report renders a decomposition plan for people and tools: a text
// summary for the terminal, Markdown for a wiki page or pull request (with a
// Mermaid diagram of the pods), and the JSON contract of analyze --json.
//
// Every string that came from a trace (file names, argv, host names) is
// attacker-controlled: each format escapes it for its own syntax, and the
// terminal summary replaces control characters so that a file name cannot
// move the cursor or change colours.
package report
