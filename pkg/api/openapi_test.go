package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/api"
)

// recorder is an api.Mux that keeps the patterns registered on it.
type recorder struct{ patterns []string }

func (r *recorder) Handle(pattern string, _ http.Handler) { r.patterns = append(r.patterns, pattern) }

type param struct {
	Name string `json:"name"`
	In   string `json:"in"`
}

// TestOpenAPIMatchesRoutes walks the router and the served document and fails
// on a route the document misses or an operation no route serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := api.New(nil, nil, nil, "token", nil)
	var rec recorder
	a.Routes(&rec)
	var routes []string
	for _, p := range rec.patterns {
		if p == "/api/" { // the catch-all 404, not an operation
			continue
		}
		routes = append(routes, p)
	}
	slices.Sort(routes)

	mux := http.NewServeMux()
	a.Routes(mux)
	rr := httptest.NewRecorder()
	mux.ServeHTTP(rr, httptest.NewRequest("GET", "/api/v1/openapi.json", nil)) // no token: the document is public
	if rr.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", rr.Code, rr.Body)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rr.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var op struct {
				Summary    string                     `json:"summary"`
				Responses  map[string]json.RawMessage `json:"responses"`
				Parameters []param                    `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			if op.Summary == "" || len(op.Responses) < 2 {
				t.Errorf("%s %s: want a summary, a success and the error response", method, path)
			}
			for _, seg := range strings.Split(path, "/") {
				name, ok := strings.CutPrefix(seg, "{")
				name = strings.TrimSuffix(name, "}")
				if ok && !slices.Contains(op.Parameters, param{Name: name, In: "path"}) {
					t.Errorf("%s %s: path parameter %s not described", method, path, name)
				}
			}
		}
	}
	slices.Sort(documented)
	if d := cmp.Diff(routes, documented); d != "" {
		t.Errorf("routes (-registered +documented):\n%s", d)
	}
}
