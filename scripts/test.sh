#!/usr/bin/env bash
# Runs every test of decompose on a fresh Debian 12 machine, as root:
# installs the Debian packages the tests need, then vets, checks formatting,
# builds, and runs the whole test suite (eBPF tests included: they must not
# skip when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use. Keep this list in step with the tests.
packages=(sqlite3 bpftool chromium graphviz busybox-static podman podman-compose runc conmon catatonit containernetworking-plugins golang-github-containernetworking-plugin-dnsname slirp4netns fuse-overlayfs uidmap tmux nginx wrk postgresql time strace)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
echo "test.sh: go vet"
go vet ./...
echo "test.sh: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "test.sh: these files need gofmt -w:" $unformatted >&2
	exit 1
fi
echo "test.sh: go build"
go build ./...
echo "test.sh: go test"
# One package at a time: several packages load the eBPF recorder, and each
# checks that it leaves no BPF program behind, which only holds when no
# other package is loading programs at the same moment.
go test -p 1 -count=1 -timeout 18m ./...
echo "test.sh: all tests passed"
