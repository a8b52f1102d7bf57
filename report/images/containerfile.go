package images

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/decompose-dev/decompose/report"
)

// DebianBase is the base of images whose file set is not closed.
const DebianBase = "docker.io/library/debian:bookworm-slim"

// Containerfile renders the image's Containerfile draft: FROM scratch
// with exactly the baked files when the set is closed, else the Debian
// base with the packages owning them and the files no package owns.
// Comments name the evidence; trace strings in them are escaped to one
// line, and every path or argument outside comments is a JSON string.
func (r *Result) Containerfile(img *Image) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Containerfile draft for container %s of pod %s, written by decompose images.", img.Name, img.Pod)
	w("# Components: %s. Files: those the recording saw them use, plus the", clean(strings.Join(img.Components, ", ")))
	w("# dynamic loaders and libraries their ELF headers need (DT_NEEDED).")
	w("# Build context: `KEEP_ROOTFS=1 bash ../build.sh %s` assembles rootfs/ here from", img.Name)
	w("# this host's files; then: podman build -t %s .", img.Ref)
	r.headerNotes(w, img)
	w("#")
	writeNotBaked(w, img)
	w("")
	if img.Closed {
		w("FROM scratch")
		writeBaked(w, img)
		w("COPY rootfs/ /")
	} else {
		r.debianBody(w, img)
	}
	w("")
	writeRuntime(w, img)
	return b.Bytes()
}

// headerNotes says whether the set is closed, the sizes, and the official
// alternative.
func (r *Result) headerNotes(w func(string, ...any), img *Image) {
	w("#")
	if img.Closed {
		w("# Closed: every file the programs were seen to need is listed, so the image is FROM scratch.")
	} else {
		w("# Not closed, so the image starts from Debian with the packages owning the files:")
		for _, g := range img.Gaps {
			w("#   - %s", clean(g))
		}
	}
	w("# Size: %s of files (%d in the tree); they came from: %s.", human(img.Size), len(img.Tree), sourcesLine(img.Sources))
	if r.PackagesFrom == "" {
		w("# Owning packages: unknown (no package database here).")
	} else {
		w("# Owning packages: from %s.", clean(r.PackagesFrom))
	}
	if img.Official != nil {
		w("# Well-known server: the manifests use the official image %s%s.", clean(img.Official.Image), envNote(img.Official.Env))
		w("# This image is the alternative built from the observed files: to use it, set image: %s", img.Ref)
		w("# and command: to the CMD below in the manifests.")
	}
}

func envNote(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return " (environment: " + clean(strings.Join(env, ", ")) + ")"
}

// writeNotBaked lists what the platform, not the image, provides.
func writeNotBaked(w func(string, ...any), img *Image) {
	w("# Not baked in:")
	n := 0
	for _, e := range img.Files {
		switch e.Class {
		case Config, Secret, Device, Runtime: // data, scratch and logs: by directory below
			w("#   %-8s %s: %s", e.Class, clean(e.Path), clean(e.Why))
			n++
		}
	}
	for _, d := range img.Dirs {
		seen := ""
		if len(d.Files) > 0 {
			seen = "; seen: " + strings.Join(d.Files, ", ")
			if d.Count > len(d.Files) {
				seen += fmt.Sprintf(" and %d more", d.Count-len(d.Files))
			}
		}
		w("#   %-8s %s/ (directory, created empty): %s%s", d.Class, clean(d.Path), clean(d.Why), clean(seen))
		n++
	}
	if n == 0 {
		w("#   nothing")
	}
}

// writeBaked lists the baked files with their evidence.
func writeBaked(w func(string, ...any), img *Image) {
	w("# Baked in:")
	for _, e := range img.Files {
		if !e.Class.Baked() {
			continue
		}
		pkg := ""
		if e.Package != "" {
			pkg = " [" + e.Package + "]"
		}
		w("#   %-10s %s%s: %s", e.Class, clean(e.Path), clean(pkg), clean(e.Why))
	}
}

// debianBody installs the owning packages and copies the rest.
func (r *Result) debianBody(w func(string, ...any), img *Image) {
	w("FROM %s", DebianBase)
	writeBaked(w, img)
	if len(img.Packages) > 0 {
		w("RUN apt-get update && apt-get install -y --no-install-recommends %s && rm -rf /var/lib/apt/lists/*", strings.Join(shellWords(img.Packages), " "))
	}
	if r.PackagesFrom == "" {
		w("# Without a package database every file is copied; add the packages that provide them.")
		w("COPY rootfs/ /")
		return
	}
	w("# Files no package owns, copied from this host (the base image has its own OS files):")
	for _, e := range img.Files {
		switch {
		case !e.Class.Baked() || e.Class == System || e.Package != "":
		case e.Final == "":
			w("# not on this host, add it by hand: %s", clean(e.Path))
		default:
			w("COPY %s", jsonArray([]string{"rootfs" + e.Final, e.Final}))
		}
	}
}

// writeRuntime writes USER, EXPOSE and CMD with their evidence.
func writeRuntime(w func(string, ...any), img *Image) {
	w("# uids seen: %s (a process that changes uid after it starts, like a server's workers, is seen with its first uid)", uidList(img.UIDs))
	w("USER %d", img.User)
	for _, p := range img.Expose {
		w("EXPOSE %s", p)
	}
	w("# The recorded command line (values redacted at record time stay redacted; the manifests")
	w("# pass them from a Secret and may change addresses or wrap the command).")
	w("CMD %s", jsonArray(img.Cmd))
}

// jsonArray renders ss as a JSON array (exec form), without HTML escaping.
func jsonArray(ss []string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if ss == nil {
		ss = []string{}
	}
	enc.Encode(ss) // a []string always encodes
	return strings.TrimSpace(b.String())
}

// clean makes a trace string safe inside a one-line comment.
func clean(s string) string { return report.Clean(s) }

func uidList(uids []uint32) string {
	var s []string
	for _, u := range uids {
		s = append(s, fmt.Sprint(u))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func sourcesLine(src []Source) string {
	var parts []string
	for _, s := range src {
		size := human(s.Size)
		if s.Partial {
			size = "over " + size
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s, %d file(s) taken)", s.Kind, clean(s.Name), size, s.Files))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// human formats bytes in binary units.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
