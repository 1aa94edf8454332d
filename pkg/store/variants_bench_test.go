package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// BenchmarkABSnapshot measures, over an audience of 100,000, the snapshot of
// a plain campaign and of an A/B campaign (20% split in SQL, the rest held),
// and the release of the 80,000 held rows to the winner, 1,000 ids per UPDATE:
//
//	go test ./pkg/store -run '^$' -bench ABSnapshot -benchtime 3x
func BenchmarkABSnapshot(b *testing.B) {
	const n = 100_000
	for _, db := range testenv.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			s := testenv.Store(b, db.DSN(b))
			ctx := context.Background()
			ids := make([]int64, 0, n)
			for start := 0; start < n; start += 5000 {
				cs := make([]store.Contact, 5000)
				for i := range cs {
					cs[i].Email = fmt.Sprintf("bench%06d@example.org", start+i)
				}
				if _, err := s.InsertContacts(ctx, cs); err != nil {
					b.Fatal(err)
				}
				for _, c := range cs {
					ids = append(ids, c.ID)
				}
			}
			f := abFixture{s: s, message: mustMessage(b, s), list: mustList(b, s, "bench", ids)}
			snapshot := func(b *testing.B, draft func() *store.Campaign) {
				b.StopTimer()
				for range b.N {
					c := draft()
					b.StartTimer()
					if _, err := s.StartCampaign(ctx, c.ID); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
				}
			}
			ab := store.ABTest{Share: 20, Metric: store.MetricClicks, WaitSeconds: 60}
			b.Run("plain", func(b *testing.B) {
				snapshot(b, func() *store.Campaign {
					c := &store.Campaign{Name: "plain", MessageID: f.message, Audience: store.Audience{Lists: []int64{f.list}}}
					if err := s.CreateCampaign(ctx, c); err != nil {
						b.Fatal(err)
					}
					return c
				})
			})
			b.Run("ab-split", func(b *testing.B) {
				snapshot(b, func() *store.Campaign { return f.create(b, 4, ab) })
			})
			b.Run("release-80k", func(b *testing.B) {
				b.StopTimer()
				for range b.N {
					c := f.campaign(b, 4, ab)
					if _, err := s.DecideWinner(ctx, c.ID, "B"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					moved, err := s.ReleaseHeld(ctx, c.ID, 1000, 0)
					b.StopTimer()
					if err != nil || moved != n*8/10 {
						b.Fatalf("released %d, %v", moved, err)
					}
				}
			})
		})
	}
}
