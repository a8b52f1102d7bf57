package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report/images"
	"github.com/decompose-dev/decompose/report/k8s"
)

func newImagesCommand(stdout io.Writer) *cobra.Command {
	var flags analysisFlags
	var outDir, planPath string
	cmd := &cobra.Command{
		Use:   "images -o DIR TRACE... | images -o DIR --plan FILE TRACE...",
		Short: "Draft container images from the files each component was seen using",
		Long: `images drafts one image per container of the manifests, from the files the
recording saw its components use, and writes into DIR:

  images.md          the summary: base, size against the packages and
                     directories the files came from, what is left out
  images.json        the same for machines
  NAME/Containerfile FROM scratch with exactly the needed files when the set
                     is closed, else Debian with the packages owning them
  build.sh           assembles each root filesystem from this host's files
                     and imports it with podman as the image the manifests
                     name (localhost/decompose/NAME:draft); no registry needed

Programs, the shared libraries their ELF headers need, scripts, read-only OS
files and read-only application content are baked in. Configuration is left
to ConfigMaps, data to volumes, runtime state and logs to emptyDirs; files
that look secret are never copied, only listed. Run it on the host that was
recorded: the files are taken from here. With --plan, pass the traces the plan
was made from too.`,
		Example: `  decompose images -o images/ app.trace
  decompose images -o images/ --plan plan.json app.trace
  bash images/build.sh`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return usageError{fmt.Errorf("images needs -o DIR, the directory to write the drafts to")}
			}
			if len(args) == 0 {
				return usageError{fmt.Errorf("images needs the trace files (written by decompose record), also with --plan: the files come from them")}
			}
			res, err := draftImages(&flags, planPath, args)
			if err != nil {
				return err
			}
			return writeImages(stdout, outDir, res)
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "directory to write the drafts to (created if missing)")
	cmd.Flags().StringVar(&planPath, "plan", "", "use a plan saved as JSON (analyze --json, the TUI) made from the traces given")
	return cmd
}

// draftImages reads the traces, analyzes them or reads the saved plan,
// drafts the manifests (for the container names) and then the images.
func draftImages(flags *analysisFlags, planPath string, paths []string) (*images.Result, error) {
	opts, err := flags.options()
	if err != nil {
		return nil, err
	}
	traces, err := openTraces(paths)
	if err != nil {
		return nil, err
	}
	var plan *graph.Plan
	if planPath == "" {
		plan, err = graph.Analyze(traces, opts)
	} else {
		plan, err = readPlanFile(planPath)
	}
	if err != nil {
		return nil, err
	}
	set, err := k8s.Build(plan, k8s.Options{})
	if err != nil {
		return nil, err
	}
	return images.Build(plan, traces, set, images.Options{})
}

// writeImages writes the drafts into dir and says what to do next.
func writeImages(stdout io.Writer, dir string, res *images.Result) error {
	files, err := res.Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		path, err := writeDraft("images", dir, f.Name, f.Data)
		if err != nil {
			return err
		}
		if f.Executable {
			if err := os.Chmod(path, 0o755); err != nil {
				return fmt.Errorf("images: %w", err)
			}
		}
	}
	var lines []string
	for _, img := range res.Images {
		base := "scratch"
		if !img.Closed {
			base = "debian (not closed)"
		}
		lines = append(lines, fmt.Sprintf("  %-28s %-20s %5d paths %10d bytes", img.Ref, base, len(img.Tree), img.Size))
	}
	_, err = fmt.Fprintf(stdout, "wrote %d files to %s; images:\n%s\nreview %s, then build them with: bash %s\n",
		len(files), dir, strings.Join(lines, "\n"), filepath.Join(dir, "images.md"), filepath.Join(dir, "build.sh"))
	return err
}
