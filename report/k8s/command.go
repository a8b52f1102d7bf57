package k8s

import (
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace/redact"
)

// word is one argv element: literal text from the trace, with secret
// references where the recorder redacted a value.
type word []segment

// segment is literal text, or, when env is set, a reference to the
// environment variable that carries a secret.
type segment struct {
	text string
	env  string
}

// secretRef is one redacted value: the Secret key that stands for it and
// the environment variable that brings it into the container.
type secretRef struct {
	secret, key, env string
}

// argvWords turns a recorded argv into words, replacing each redacted
// value with a reference to a new key of the component's Secret stub.
func argvWords(argv []string, secretName string, refs *[]secretRef) []word {
	words := make([]word, len(argv))
	for i, a := range argv {
		parts := strings.Split(a, redact.Placeholder)
		for j, p := range parts {
			if p != "" {
				words[i] = append(words[i], segment{text: p})
			}
			if j == len(parts)-1 {
				break
			}
			key := uniqueKey(secretKeyName(argv, i, parts[0]), *refs, secretName)
			ref := secretRef{secret: secretName, key: key, env: envName("DECOMPOSE_SECRET_" + secretName + "_" + key)}
			*refs = append(*refs, ref)
			words[i] = append(words[i], segment{env: ref.env})
		}
	}
	return words
}

var optionPrefix = regexp.MustCompile(`^-{0,2}([A-Za-z0-9_.-]+)[=:]?$`)

// secretKeyName names a redacted value after the option or variable that
// held it: --password=<redacted> is "password", PGPASSWORD=<redacted> is
// "pgpassword", "--token <redacted>" is "token", a URL's is "url-password".
func secretKeyName(argv []string, i int, prefix string) string {
	switch {
	case strings.Contains(prefix, "://"):
		return "url-password"
	case prefix == "" && i > 0:
		prefix = argv[i-1]
	}
	if m := optionPrefix.FindStringSubmatch(prefix); m != nil {
		if k := keyName(m[1]); k != "" {
			return k
		}
	}
	return "value"
}

var notKey = regexp.MustCompile(`[^a-z0-9]+`)

// keyName makes s a Secret or ConfigMap key of lower-case words.
func keyName(s string) string {
	s = strings.Trim(notKey.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	return s
}

func uniqueKey(base string, refs []secretRef, secret string) string {
	used := map[string]bool{}
	for _, r := range refs {
		if r.secret == secret {
			used[r.key] = true
		}
	}
	key := base
	for n := 2; used[key]; n++ {
		key = base + "-" + strconv.Itoa(n)
	}
	return key
}

var notEnv = regexp.MustCompile(`[^A-Z0-9_]+`)

// envName makes s a portable environment variable name.
func envName(s string) string {
	return notEnv.ReplaceAllString(strings.ToUpper(s), "_")
}

// escapeDollar keeps the kubelet from expanding $(VAR) in text from a
// trace: it turns "$$" back into "$" and leaves everything else alone.
func escapeDollar(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// execForm renders a word for a container's command or args.
func (w word) execForm() string {
	var b strings.Builder
	for _, s := range w {
		if s.env != "" {
			b.WriteString("$(" + s.env + ")")
		} else {
			b.WriteString(escapeDollar(s.text))
		}
	}
	return b.String()
}

// shellForm renders a word for a POSIX sh script: literal text single
// quoted, secrets as double-quoted variable expansions.
func (w word) shellForm() string {
	if len(w) == 0 {
		return "''"
	}
	var b strings.Builder
	for _, s := range w {
		if s.env != "" {
			b.WriteString(`"$` + s.env + `"`)
		} else {
			b.WriteString(shellQuote(escapeDollar(s.text)))
		}
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellLine(words []word) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.shellForm()
	}
	return strings.Join(out, " ")
}

// commandOf is the argv to run for a component: its recorded command, with
// the executable's full path when the command named it relatively.
func commandOf(c *graph.Component) []string {
	argv := append([]string(nil), c.Command...)
	if len(argv) == 0 {
		return []string{c.Exe}
	}
	if !strings.HasPrefix(argv[0], "/") && strings.HasPrefix(c.Exe, "/") {
		argv[0] = c.Exe
	}
	return argv
}

// schedule tells how a component ran: as a daemon (period 0, once false),
// as a job repeated every period seconds, or once. A run is a process with
// the component's own command; a job is one whose every run exited.
func schedule(c *graph.Component) (period int64, once bool) {
	var starts []int64
	for _, m := range c.Members {
		if !sameArgv(m.Argv, c.Command) {
			continue
		}
		if m.ExitNS == 0 {
			return 0, false
		}
		starts = append(starts, m.StartNS)
	}
	switch len(starts) {
	case 0:
		return 0, false
	case 1:
		return 0, true
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	gaps := make([]int64, len(starts)-1)
	for i := range gaps {
		gaps[i] = starts[i+1] - starts[i]
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	period = (gaps[len(gaps)/2] + 5e8) / 1e9
	return max(period, 1), false
}

func sameArgv(a, b []string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// baseName is the program name of an executable path.
func baseName(p string) string { return path.Base(p) }
