package store

import (
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Bounds of the names of lists and topics, and of their descriptions.
const (
	MaxListName    = 200
	MaxTopicName   = 100
	MaxDescription = 500
)

// CheckNamed trims a name and a description and checks them: the name
// required and at most maxName characters, the description at most
// MaxDescription. The API and the admin UI take lists and topics by it.
func CheckNamed(name, description string, maxName int) (string, string, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if name == "" || len(name) > maxName {
		return name, description, errs.Field("name", "is required, at most %d characters", maxName)
	}
	if len(description) > MaxDescription {
		return name, description, errs.Field("description", "at most %d characters", MaxDescription)
	}
	return name, description, nil
}
