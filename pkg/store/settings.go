package store

import (
	"context"
	"fmt"
)

// SettingAPIToken is the key of the API token generated when
// DEARFRIEND_API_TOKEN is unset; admins rotate it in the admin UI.
const SettingAPIToken = "api_token"

// SettingValue returns the value kept under key, a not-found error when there is none.
func (s *Store) SettingValue(ctx context.Context, key string) (string, error) {
	var st Setting
	if err := s.db.NewSelect().Model(&st).Where("key = ?", key).Scan(ctx); err != nil {
		return "", notFound(err, "setting", key)
	}
	return st.Value, nil
}

// ReplaceSetting keeps value under key, in place of what was there.
func (s *Store) ReplaceSetting(ctx context.Context, key, value string) error {
	if _, err := s.db.NewInsert().Model(&Setting{Key: key, Value: value}).
		On("CONFLICT (key) DO UPDATE").Set("value = EXCLUDED.value").Exec(ctx); err != nil {
		return fmt.Errorf("replace setting %s: %w", key, err)
	}
	return nil
}
