package admin

import (
	"context"
	"io"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Importer runs CSV imports in the background; pkg/api's runner, so an
// import started here is stopped and marked failed at shutdown like the API's.
type Importer interface {
	StartImport(ctx context.Context, file io.Reader, req audience.ImportRequest) (store.Import, error)
}

// Compiler checks a message's templates when it is saved; pkg/render.
type Compiler interface {
	Compile(in render.Input) (*render.Compiled, error)
}

// Previews renders a saved message for a sample contact and queues test
// sends; pkg/delivery.
type Previews interface {
	Preview(ctx context.Context, messageID, contactID int64) (*mailer.Message, error)
	EnqueueTest(ctx context.Context, messageID int64, emails []string) ([]string, error)
}

// Dispatcher starts, pauses, resumes and cancels a campaign's send; pkg/delivery.
type Dispatcher interface {
	Send(ctx context.Context, campaignID int64) (int64, error)
	Pause(ctx context.Context, campaignID int64) error
	Unpause(ctx context.Context, campaignID int64) error
	Cancel(ctx context.Context, campaignID int64) (int64, error)
	ResendUnknown(ctx context.Context, campaignID int64) (int64, error)
}
