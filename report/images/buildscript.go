package images

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// buildPrelude is the fixed part of build.sh: argument handling and the
// three steps every image takes (assemble, make run-time directories,
// import).
const buildPrelude = `set -euo pipefail
cd "$(dirname "$0")"
TAG=${TAG:-draft}
SOURCE_ROOT=${SOURCE_ROOT:-%s}
KEEP_ROOTFS=${KEEP_ROOTFS:-0}

# assemble NAME: copies the files listed in NAME/rootfs.list (NUL-separated,
# relative to SOURCE_ROOT; symbolic links stay links, directories are not
# descended) into NAME/rootfs, keeping modes and owners.
assemble() {
	rm -rf "$1/rootfs"
	mkdir -p "$1/rootfs"
	tar -C "$SOURCE_ROOT" --null --no-recursion -cf - -T "$1/rootfs.list" | tar -C "$1/rootfs" -xpf -
}

# rundir NAME DIR MODE UID GID: an empty directory a volume or emptyDir
# is mounted on at run time (never filled from the host).
rundir() {
	mkdir -p "$1/rootfs$2"
	chmod "$3" "$1/rootfs$2"
	chown "$4:$5" "$1/rootfs$2" 2>/dev/null || true
}

# import_rootfs NAME REF CHANGE...: imports NAME/rootfs as image REF:$TAG.
import_rootfs() {
	local name=$1 ref=$2
	shift 2
	local changes=()
	for c in "$@"; do changes+=(--change "$c"); done
	tar -C "$name/rootfs" -cf - . | podman import -q "${changes[@]}" - "$ref:$TAG" >/dev/null
	[ "$KEEP_ROOTFS" = 1 ] || rm -rf "$name/rootfs"
	echo "built $ref:$TAG ($(podman image inspect --format '{{.Size}}' "$ref:$TAG") bytes)"
}

`

// BuildScript renders build.sh: one case per image that assembles its
// root filesystem from the host's files and imports it with podman under
// the name the manifests use. Every trace string in it is single-quoted.
func (r *Result) BuildScript() []byte {
	var b bytes.Buffer
	names := make([]string, len(r.Images))
	for i, img := range r.Images {
		names[i] = img.Name
	}
	b.WriteString("#!/usr/bin/env bash\n")
	b.WriteString("# build.sh, written by decompose images: builds the draft images from this host's\n")
	b.WriteString("# files without a registry. Review each NAME/Containerfile first.\n")
	b.WriteString("# Usage: [TAG=draft] [KEEP_ROOTFS=1] [SOURCE_ROOT=/] bash build.sh [NAME...]\n")
	b.WriteString("# Images: " + strings.Join(names, " ") + "\n")
	fmt.Fprintf(&b, buildPrelude, shellQuote(r.Root))
	b.WriteString("build() {\n\tcase \"$1\" in\n")
	for _, img := range r.Images {
		writeImageCase(&b, img)
	}
	b.WriteString("\t*)\n\t\techo \"build.sh: no image $1 (have: " + strings.Join(names, " ") + ")\" >&2\n\t\treturn 2\n\t\t;;\n\tesac\n}\n\n")
	b.WriteString("[ $# -gt 0 ] || set -- " + strings.Join(names, " ") + "\n")
	b.WriteString("for name in \"$@\"; do build \"$name\"; done\n")
	return b.Bytes()
}

// writeImageCase writes the steps of one image.
func writeImageCase(b *bytes.Buffer, img *Image) {
	fmt.Fprintf(b, "\t%s)\n", img.Name)
	base := "FROM scratch"
	if !img.Closed {
		base = "not closed: see " + img.Name + "/Containerfile"
	}
	fmt.Fprintf(b, "\t\t# %s: %d paths, %s (%s)\n", img.Name, len(img.Tree), human(img.Size), base)
	fmt.Fprintf(b, "\t\tassemble %s\n", img.Name)
	for _, d := range img.Dirs {
		mode, uid, gid := "0755", img.User, img.GID
		if d.Path == "/tmp" {
			mode, uid, gid = "1777", 0, 0
		}
		fmt.Fprintf(b, "\t\trundir %s %s %s %d %d\n", img.Name, shellQuote(d.Path), mode, uid, gid)
	}
	changes := []string{"CMD " + jsonArray(img.Cmd), fmt.Sprintf("USER %d", img.User)}
	for _, p := range img.Expose {
		changes = append(changes, "EXPOSE "+p)
	}
	fmt.Fprintf(b, "\t\timport_rootfs %s %s", img.Name, shellQuote(strings.TrimSuffix(img.Ref, ":draft")))
	for _, c := range changes {
		fmt.Fprintf(b, " \\\n\t\t\t%s", shellQuote(c))
	}
	b.WriteString("\n\t\t;;\n")
}

// RootfsList is the NUL-separated list of paths (relative to the source
// root) build.sh archives for img.
func (img *Image) RootfsList() []byte {
	var b bytes.Buffer
	for _, p := range img.Tree {
		b.WriteString(strings.TrimPrefix(p, "/"))
		b.WriteByte(0)
	}
	return b.Bytes()
}

// shellQuote quotes s for a POSIX shell: single quotes, with each single
// quote closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_.:+@%/=-]+$`)

// shellWords quotes the words that need it.
func shellWords(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s
		if !shellSafe.MatchString(s) {
			out[i] = shellQuote(s)
		}
	}
	return out
}
