package bounce

import (
	"encoding/json"
	"fmt"
	"io"
)

const commandUsage = `usage: dearfriend bounce classify < message.eml

Reads one message (a delivery report, a feedback-loop complaint or an
auto-reply) on standard input and prints one JSON line per failed recipient:
{"recipient": "a@example.org", "kind": "hard", "status": "5.1.1", "reason": "userunknown"}
Kinds: hard, soft, complaint, auto_reply. A message that is no report prints nothing.
`

// UnknownRecipient is printed for a complaint that names no recipient: the
// placeholder the reference parser (Sisimai) prints, so that tools built on
// either read the same thing.
const UnknownRecipient = "undisclosed-recipient-in-headers@libsisimai.org.invalid"

// Command is the bounce command; it returns the exit code.
func Command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "classify" {
		fmt.Fprint(stderr, commandUsage)
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	rep, err := Read(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend bounce classify: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	for _, f := range rep.Failures {
		if f.Recipient == "" {
			f.Recipient = UnknownRecipient
		}
		line := struct {
			Recipient string `json:"recipient"`
			Kind      Kind   `json:"kind"`
			Status    string `json:"status,omitempty"`
			Reason    string `json:"reason"`
		}{f.Recipient, f.Kind, f.Status, f.Reason}
		if err := enc.Encode(line); err != nil {
			fmt.Fprintf(stderr, "dearfriend bounce classify: %v\n", err)
			return 1
		}
	}
	return 0
}
