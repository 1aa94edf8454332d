package metrics_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/dearfriend/dearfriend/pkg/metrics"
)

// TestDeployFiles reads deploy/: every YAML and JSON file parses, every
// Kubernetes object names its kind, and every series the Grafana dashboard
// and the Prometheus alerts query is one this package reports (up, of
// Prometheus itself, aside).
func TestDeployFiles(t *testing.T) {
	t.Parallel()
	known := seriesNames(t)
	var exprs []string
	files, err := filepath.Glob("../../deploy/*/*")
	if err != nil {
		t.Fatal(err)
	}
	compose, _ := filepath.Glob("../../deploy/*.yaml")
	files = append(files, compose...)
	kinds := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".json":
			var d struct {
				Panels []struct {
					Title   string
					Targets []struct{ Expr string }
				}
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, p := range d.Panels {
				if len(p.Targets) == 0 {
					t.Errorf("%s: panel %q queries nothing", f, p.Title)
				}
				for _, tg := range p.Targets {
					exprs = append(exprs, tg.Expr)
				}
			}
		case ".yaml":
			for _, doc := range yamlDocs(t, f, raw) {
				switch {
				case strings.Contains(f, "kubernetes"):
					kind, _ := doc["kind"].(string)
					if kind == "" || doc["apiVersion"] == nil || doc["metadata"] == nil {
						t.Errorf("%s: an object without kind, apiVersion or metadata", f)
					}
					kinds[kind] = true
				case strings.Contains(f, "prometheus"):
					var rules struct {
						Groups []struct {
							Rules []struct{ Alert, Expr string }
						}
					}
					if err := yaml.Unmarshal(raw, &rules); err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					for _, g := range rules.Groups {
						for _, r := range g.Rules {
							if r.Alert == "" || r.Expr == "" {
								t.Errorf("%s: a rule without alert or expr: %+v", f, r)
							}
							exprs = append(exprs, r.Expr)
						}
					}
				}
			}
		}
	}
	for _, kind := range []string{"Deployment", "Service", "Job", "ConfigMap", "Secret"} {
		if !kinds[kind] {
			t.Errorf("deploy/kubernetes has no %s", kind)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("%d queries found in the dashboard and alerts; the files were not read", len(exprs))
	}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range seriesInExpr.FindAllString(e, -1) {
			used[name] = true
		}
	}
	for name := range used {
		if !known[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")] && !known[name] {
			t.Errorf("deploy/ queries %s, which pkg/metrics does not report", name)
		}
	}
	for _, want := range []string{"dearfriend_messages_total", "dearfriend_queue_tasks", "dearfriend_reports_total", "dearfriend_workers"} {
		if !used[want] {
			t.Errorf("deploy/ never queries %s", want)
		}
	}
}

// seriesInExpr finds the series a PromQL expression names (ours; label
// values and functions are not ours).
var seriesInExpr = regexp.MustCompile(`\b(dearfriend|go|process)_[a-z0-9_]+`)

// seriesNames are the series a process with a watched queue can report.
func seriesNames(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New()
	m.WatchQueue(inspector{}, "q")
	ch := make(chan *prometheus.Desc, 1000)
	m.Describe(ch)
	close(ch)
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if got := fq.FindStringSubmatch(d.String()); got != nil {
			names[got[1]] = true
		}
	}
	if !names["dearfriend_workers"] || !names["dearfriend_messages_total"] {
		t.Fatalf("Describe lists %v", slices.Sorted(maps.Keys(names)))
	}
	return names
}

// yamlDocs parses every document of a YAML file.
func yamlDocs(t *testing.T, name string, raw []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, doc)
	}
}
