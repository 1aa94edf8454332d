package app

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/templates"
)

// DemoSize is the number of demo supporters seeded in dev mode.
const DemoSize = 1000

var (
	demoFirst = []string{"Jane", "Amara", "José", "Mei", "Oluwaseun", "Zoë", "Sam", "Priya", "Łukasz", "Fatima",
		"Ngozi", "Björn", "Aisha", "Diego", "Hana", "", "Kwame", "Siobhán", "Thanh", "Yusuf", "Élodie", "Ravi", "", "Chloé"}
	demoLast = []string{"Okafor", "García", "Chen", "Nakamura", "Smith", "Müller", "Nguyen", "Haddad", "Kowalski",
		"O'Brien", "Da Silva", "Ivanova", "Johnson", "Mensah", "Park", "Ali"}
)

// seed fills an empty database with demo supporters, a list, an action alert
// and a draft campaign to them. A database with contacts is left alone.
func seed(ctx context.Context, st *store.Store, cfg config.Config) error {
	n, err := st.CountContacts(ctx)
	if err != nil || n > 0 {
		return err
	}
	contacts := make([]store.Contact, DemoSize)
	for i := range contacts {
		first := demoFirst[i%len(demoFirst)]
		last := demoLast[(i*7)%len(demoLast)]
		contacts[i] = store.Contact{Email: fmt.Sprintf("supporter%04d@example.org", i+1), FirstName: first, LastName: last}
	}
	for start := 0; start < len(contacts); start += 250 {
		if _, err := st.InsertContacts(ctx, contacts[start:min(start+250, len(contacts))]); err != nil {
			return err
		}
	}
	list := &store.List{Name: "Supporters", Description: "Demo supporters"}
	if err := st.CreateList(ctx, list); err != nil {
		return err
	}
	all, err := st.ListContacts(ctx, 0, DemoSize)
	if err != nil {
		return err
	}
	ids := make([]int64, len(all))
	for i, c := range all {
		ids[i] = c.ID
	}
	if err := st.AddListMembers(ctx, list.ID, ids); err != nil {
		return err
	}
	body, err := fs.ReadFile(templates.FS, "demo/action-alert.html")
	if err != nil {
		return err
	}
	msg := &store.Message{
		Name:      "Northfork permit: add your name",
		Subject:   "{{ .FirstName | default \"Friend\" }}, tell Governor Hale: no permit for Northfork",
		Preheader: "Eleven days until the permit is renewed. Add your name now.",
		FromName:  cfg.FromName,
		FromEmail: cfg.FromEmail,
		Layout:    "action-alert",
		HTML:      string(body),
	}
	if err := st.CreateMessage(ctx, msg); err != nil {
		return err
	}
	camp := &store.Campaign{Name: "Northfork permit alert", MessageID: msg.ID, Audience: store.Audience{Lists: []int64{list.ID}}}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		return err
	}
	// The start-up banner suggests sending it while it is a draft.
	return st.ReplaceSetting(ctx, settingDemoCampaign, strconv.FormatInt(camp.ID, 10))
}

// settingDemoCampaign keeps the id of the seeded campaign.
const settingDemoCampaign = "demo_campaign_id"
