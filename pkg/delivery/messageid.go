package delivery

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
)

// SettingDeploymentID is the settings key of the deployment's id, made once
// and kept in the database, so that every process of one deployment uses
// the same and no two deployments do.
const SettingDeploymentID = "deployment_id"

// NewDeploymentID returns a random deployment id: 16 lower-case letters and
// digits (80 bits), allowed as they are in a Message-ID.
func NewDeploymentID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// WithDeploymentID puts id in every Message-ID the worker makes. Without it
// a Message-ID is made of database ids alone, which repeat from one
// deployment to the next (<c1.s1@example.org> on every new one), and a
// mailbox provider may take a second deployment's mail for duplicates.
func WithDeploymentID(id string) WorkerOption {
	return func(w *Worker) { w.deployment = id }
}

// messageID is <local>.<deployment>@<domain of from>, local naming what
// the message is for ("c12.s345", "sig7"): unique across deployments, and
// the same for every try of one send, so a retry that reaches the inbox
// twice is seen as one message.
func (w *Worker) messageID(local, from string) string {
	domain := "localhost"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	if w.deployment != "" {
		local += "." + w.deployment
	}
	return local + "@" + domain
}

// campaignMessageID is the Message-ID of send sendID of campaign campaignID.
func (w *Worker) campaignMessageID(campaignID, sendID int64, from string) string {
	return w.messageID("c"+strconv.FormatInt(campaignID, 10)+".s"+strconv.FormatInt(sendID, 10), from)
}
