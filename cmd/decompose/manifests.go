package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/report/compose"
	"github.com/decompose-dev/decompose/report/k8s"
)

func newManifestsCommand() *cobra.Command {
	var flags analysisFlags
	var format, outDir, planPath string
	var configContent bool
	cmd := &cobra.Command{
		Use:   "manifests -f k8s|compose -o DIR TRACE... | manifests --plan FILE ...",
		Short: "Write Kubernetes manifest drafts (or a compose file) for the plan",
		Long: `manifests writes drafts for the proposed pods into DIR.

-f k8s: configmaps.yaml, one <pod>.yaml per pod (Secret stubs, a Deployment
or StatefulSet with one container per component, Services) and a
kustomization.yaml (kubectl apply -k DIR). -f compose: compose.yaml, a .env
with placeholders for redacted secrets, config/ with the config files, and
compose.podman-compose-1.0.yaml, the same services for Debian 12's
podman-compose 1.0.3, which cannot share namespaces between containers (its
header says what each pod loses there; podman kube play keeps pods whole).

Volumes are mounted at the paths the VM used, so the programs run unchanged.
Loopback addresses that now cross pods are rewritten in argv (and in copied
config files) to the Service names; everything else that needs a person's
attention is said in the decompose.dev/* annotations of each object.
Config file content is copied only with --config-content, only when the file
is readable here, and never for files that look secret.`,
		Example: `  decompose manifests -f k8s -o k8s/ app.trace
  decompose manifests -f k8s -o k8s/ --config-content app.trace
  decompose manifests -f compose -o compose/ --plan plan.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "k8s" && format != "compose" {
				return usageError{fmt.Errorf("unknown manifest format %q: use k8s or compose", format)}
			}
			if outDir == "" {
				return usageError{fmt.Errorf("manifests needs -o DIR, the directory to write the drafts to")}
			}
			plan, err := loadPlan(cmd, &flags, planPath, args)
			if err != nil {
				return err
			}
			set, err := k8s.Build(plan, k8s.Options{ConfigContent: configContent})
			if err != nil {
				return err
			}
			files, err := set.Files()
			if format == "compose" && err == nil {
				files, err = compose.Files(set)
			}
			if err != nil {
				return err
			}
			return writeFiles(cmd.OutOrStdout(), outDir, format, files)
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "k8s", "what to write: k8s or compose")
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "directory to write the drafts to (created if missing)")
	cmd.Flags().StringVar(&planPath, "plan", "", "use a plan saved as JSON (analyze --json, the TUI) instead of analyzing traces")
	cmd.Flags().BoolVar(&configContent, "config-content", false, "copy config files into ConfigMaps when readable here (never files that look secret)")
	return cmd
}

// writeDraft writes one file of a draft directory atomically at dir/name,
// creating its parent directories, and returns its path. A name that would
// land outside dir (from a hostile trace) is refused; what names the
// command in errors.
func writeDraft(what, dir, name string, data []byte) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("%s: refusing to write %q outside %s", what, name, dir)
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("%s: create %s: %w: pass -o with a writable directory", what, filepath.Dir(path), err)
	}
	return path, writeOutput(path, nil, func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(data)); return err })
}

// writeFiles writes the drafts into dir, each file atomically, and says
// what it wrote.
func writeFiles(stdout io.Writer, dir, format string, files []k8s.File) error {
	var names []string
	for _, f := range files {
		if _, err := writeDraft("manifests", dir, f.Name, f.Data); err != nil {
			return err
		}
		names = append(names, f.Name)
	}
	next := "kubectl apply -k " + dir
	if format == "compose" {
		next = "cd " + dir + " && docker compose up -d (or podman-compose 1.0.6+: podman-compose up -d; Debian 12's podman-compose 1.0.3: podman-compose -f " +
			compose.PodmanCompose10File + " up -d, see its header)"
	}
	_, err := fmt.Fprintf(stdout, "wrote %d files to %s: %s\nreview the decompose.dev/* annotations, build the placeholder images, then: %s\n",
		len(names), dir, strings.Join(names, ", "), next)
	return err
}
