package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// CreateList inserts l; a name already taken is a conflict.
func (s *Store) CreateList(ctx context.Context, l *List) error {
	l.CreatedAt = time.Now().UTC()
	if _, err := s.db.NewInsert().Model(l).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a list named %q already exists", l.Name), Err: err}
		}
		return fmt.Errorf("insert list: %w", err)
	}
	return nil
}

// GetList returns the list with id.
func (s *Store) GetList(ctx context.Context, id int64) (*List, error) {
	var l List
	if err := s.db.NewSelect().Model(&l).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "list", id)
	}
	return &l, nil
}

// ListLists returns every list in id order.
func (s *Store) ListLists(ctx context.Context) ([]List, error) {
	var ls []List
	err := s.db.NewSelect().Model(&ls).Order("id").Scan(ctx)
	return ls, err
}

// AddListMembers subscribes contacts to a list; members already there are left as they are.
// Ids that name no contact are an invalid-input error and nothing is added.
func (s *Store) AddListMembers(ctx context.Context, listID int64, contactIDs []int64) error {
	if len(contactIDs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for start := 0; start < len(contactIDs); start += 1000 {
			chunk := contactIDs[start:min(start+1000, len(contactIDs))]
			n, err := tx.NewSelect().Model((*Contact)(nil)).Where("id IN (?)", bun.List(chunk)).Count(ctx)
			if err != nil {
				return err
			}
			if n != int64(len(uniq(chunk))) {
				return errs.Field("contact_ids", "some ids name no contact")
			}
			ms := make([]ListMember, len(chunk))
			for i, id := range chunk {
				ms[i] = ListMember{ListID: listID, ContactID: id, Status: ContactSubscribed, CreatedAt: now}
			}
			if _, err := tx.NewInsert().Model(&ms).On("CONFLICT (list_id, contact_id) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("add list members: %w", err)
			}
		}
		return nil
	})
}

// CountListMembers counts the subscribed members of a list.
func (s *Store) CountListMembers(ctx context.Context, listID int64) (int64, error) {
	return s.db.NewSelect().Model((*ListMember)(nil)).Where("list_id = ? AND status = ?", listID, ContactSubscribed).Count(ctx)
}

func uniq(ids []int64) map[int64]struct{} {
	m := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

// RenameList gives list id a new name (checked as CreateList's callers
// check it, with CheckNamed); a name already taken is a conflict.
func (s *Store) RenameList(ctx context.Context, id int64, name string) error {
	name, _, err := CheckNamed(name, "", MaxListName)
	if err != nil {
		return err
	}
	res, err := s.db.NewUpdate().Model((*List)(nil)).Set("name = ?", name).Where("id = ?", id).Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a list named %q already exists", name), Err: err}
		}
		return fmt.Errorf("rename list %d: %w", id, err)
	}
	return oneRow(res, "list", id)
}

// DeleteList removes list id and its memberships (ON DELETE CASCADE); the
// contacts themselves stay, and imports that went into it keep their
// record with no list.
func (s *Store) DeleteList(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*List)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete list %d: %w", id, err)
	}
	return oneRow(res, "list", id)
}

// oneRow turns an update or delete that touched no row into a not-found error.
func oneRow(res sql.Result, what string, id int64) error {
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return notFound(sql.ErrNoRows, what, id)
	}
	return nil
}
