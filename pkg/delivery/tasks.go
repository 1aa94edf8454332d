package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TypeSendBatch is the task that sends one range of a campaign's ledger.
const TypeSendBatch = "campaign:send_batch"

// SendBatchPayload names a campaign and an inclusive range of its ledger ids.
type SendBatchPayload struct {
	CampaignID int64 `json:"campaign_id"`
	From       int64 `json:"from"`
	To         int64 `json:"to"`
}

// NewSendBatchTask makes the task for p on queue. Its id is derived from the
// range, so enqueueing the same batch twice (a resumed dispatch) is refused by
// asynq instead of sending twice.
func NewSendBatchTask(p SendBatchPayload, queue string) (*asynq.Task, error) {
	return sendBatchTask(p, queue, fmt.Sprintf("send:%d:%d-%d", p.CampaignID, p.From, p.To))
}

// NewRecoveryTask makes the task that sends again the rows of a range left
// by a worker that died (store.Orphan). Its id names the lost lease, not only
// the range: the dead worker's task may still hold the range's id in Redis
// until asynq recovers it, and sweeps that find the same loss again are
// refused.
func NewRecoveryTask(o store.Orphan, campaignID int64, queue string) (*asynq.Task, error) {
	p := SendBatchPayload{CampaignID: campaignID, From: o.From, To: o.To}
	return sendBatchTask(p, queue, fmt.Sprintf("send:%d:%d-%d:lost-%d", campaignID, o.From, o.To, o.Since.UnixMicro()))
}

func sendBatchTask(p SendBatchPayload, queue, id string) (*asynq.Task, error) {
	if p.CampaignID <= 0 || p.From <= 0 || p.To < p.From {
		return nil, fmt.Errorf("send batch: bad range %+v", p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeSendBatch, b,
		asynq.TaskID(id),
		asynq.Queue(queue),
		asynq.MaxRetry(20),
		asynq.Timeout(15*time.Minute),
	), nil
}

// RetryDelay backs off a batch that still has deferred recipients: 5 s, 10 s,
// 20 s … up to 10 minutes. A batch a stopping worker handed back waits a
// second, for another worker to take it.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if errors.Is(err, errHandedBack) {
		return time.Second
	}
	d := 5 * time.Second << min(n, 7)
	return min(d, 10*time.Minute)
}
