package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestPetitionsAPI checks creating, reading and listing petitions with their
// OSDI-named count, and that bad input names its field and stores nothing.
func TestPetitionsAPI(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		var created struct {
			ID              int64  `json:"id"`
			Title           string `json:"title"`
			Target          string `json:"target"`
			PetitionText    string `json:"petition_text"`
			Open            bool   `json:"open"`
			TotalSignatures int64  `json:"total_signatures"`
		}
		mustDo(c, "POST", "/api/v1/petitions", map[string]any{"slug": "river", "title": "Save the river", "target": "The Governor", "petition_text": "Dear Governor", "goal": 10}, &created, http.StatusCreated)
		want := created
		want.TotalSignatures = 1
		jane, err := s.UpsertSigner(context.Background(), store.Signer{Email: "jane@example.org", FirstName: "Jane"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), created.ID, jane.ID, store.Attribution{}); err != nil {
			t.Fatal(err)
		}
		got := created
		mustDo(c, "GET", fmt.Sprintf("/api/v1/petitions/%d", created.ID), nil, &got, http.StatusOK)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("petition (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			name  string
			in    map[string]any
			field string
		}{
			{"bad slug", map[string]any{"slug": "Bad Slug", "title": "t"}, "slug"},
			{"no title", map[string]any{"slug": "ok", "title": " "}, "title"},
			{"negative goal", map[string]any{"slug": "ok", "title": "t", "goal": -1}, "goal"},
			{"slug taken", map[string]any{"slug": "river", "title": "t"}, "slug"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b, _ := json.Marshal(tc.in)
				status, body := send(c, "POST", "/api/v1/petitions", "application/json", bytes.NewReader(b))
				if status != http.StatusUnprocessableEntity && status != http.StatusConflict {
					t.Fatalf("status %d %s", status, body)
				}
				if got := errorField(t, body); got != tc.field {
					t.Errorf("field %q, want %q", got, tc.field)
				}
			})
		}
		var list struct {
			Petitions []struct {
				Title string `json:"title"`
			} `json:"petitions"`
		}
		mustDo(c, "GET", "/api/v1/petitions", nil, &list, http.StatusOK)
		if diff := cmp.Diff(1, len(list.Petitions)); diff != "" {
			t.Errorf("petitions (-want +got):\n%s", diff)
		}
	})
}
