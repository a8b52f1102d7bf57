// Package redact removes secrets from command lines before they are stored
// in a trace, so that passwords and tokens never leave the host in clear.
//
// It recognises the usual shapes: option values (--password=x, --password x,
// -pSECRET for mysql-style clients), environment-style assignments whose name
// mentions PASSWORD, PASSWD, TOKEN, SECRET, CREDENTIAL or API_KEY/APIKEY,
// and user:password@ in URLs. Redaction replaces only the secret with
// Placeholder, keeping the rest so that the command stays recognisable.
package redact

import (
	"regexp"
	"strings"
)

// Placeholder replaces every redacted value.
const Placeholder = "<redacted>"

// secretName matches names of options and variables that hold secrets.
var secretName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|token|secret|credential|api[_-]?key|private[_-]?key|auth)`)

// urlUserinfo matches the password part of scheme://user:password@host.
var urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@\s]*:)([^@/\s]+)(@)`)

// shortPasswordFlags take their value glued to the flag (mysql -pSECRET).
var shortPasswordFlags = []string{"-p"}

// clientsWithShortP are programs whose -p flag is a password, not a port.
var clientsWithShortP = regexp.MustCompile(`(^|/)(mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mariadb-admin|mysqlimport|mysqlcheck)$`)

// Argv returns a copy of argv with secrets replaced by Placeholder.
func Argv(argv []string) []string {
	out := make([]string, len(argv))
	copy(out, argv)
	shortP := len(argv) > 0 && clientsWithShortP.MatchString(argv[0])
	for i := 0; i < len(out); i++ {
		arg := out[i]
		out[i] = Value(arg)
		if out[i] != arg {
			continue
		}
		if shortP && i > 0 {
			for _, f := range shortPasswordFlags {
				if strings.HasPrefix(arg, f) && len(arg) > len(f) {
					out[i] = f + Placeholder
				}
			}
		}
		// --password SECRET: the secret is the next argument.
		if name, ok := optionName(arg); ok && !strings.Contains(arg, "=") && secretName.MatchString(name) && i+1 < len(out) && !strings.HasPrefix(out[i+1], "-") {
			out[i+1] = Placeholder
			i++
		}
	}
	return out
}

// embedded matches secrets inside a longer argument, such as the command
// string of sh -c: a secret-looking option or variable followed by = or a
// space and its value.
var embedded = regexp.MustCompile(`(?i)((?:^|[\s;&|'"(])-{0,2}[\w.-]*(?:passw(?:or)?d|passwd|pwd|token|secret|credential|api[_-]?key|private[_-]?key)[\w.-]*(?:=|\s+))('[^']*'|"[^"]*"|[^\s;&|'"()]+)`)

// Value redacts a single argument or environment entry: NAME=secret and
// --name=secret when NAME looks secret, passwords inside URLs, and such
// assignments and options inside a longer string (a shell command line).
func Value(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}"+Placeholder+"${3}")
	if strings.ContainsAny(s, " \t;") {
		s = embedded.ReplaceAllStringFunc(s, func(m string) string {
			sub := embedded.FindStringSubmatch(m)
			if sub[2] == Placeholder || strings.HasPrefix(sub[2], "-") {
				return m
			}
			return sub[1] + Placeholder
		})
	}
	if eq := strings.IndexByte(s, '='); eq > 0 {
		name := strings.TrimLeft(s[:eq], "-")
		if secretName.MatchString(name) && !strings.ContainsAny(name, " /") && s[eq+1:] != Placeholder {
			return s[:eq+1] + Placeholder
		}
	}
	return s
}

// optionName returns the name of a long or short option, without dashes.
func optionName(arg string) (string, bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
		return "", false
	}
	return strings.TrimLeft(arg, "-"), true
}
