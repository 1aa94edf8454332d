package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpsSettings(t *testing.T) {
	good := []struct {
		name     string
		env      map[string]string
		shutdown time.Duration
		pool     Pool
	}{
		{"defaults", nil, 30 * time.Second, Pool{}},
		{"seconds, as before", map[string]string{"DEARFRIEND_SHUTDOWN_TIMEOUT": "45"}, 45 * time.Second, Pool{}},
		{"a duration and a pool", map[string]string{"DEARFRIEND_SHUTDOWN_TIMEOUT": "2m", "DEARFRIEND_DB_MAX_CONNS": "10",
			"DEARFRIEND_DB_MAX_IDLE_CONNS": "4", "DEARFRIEND_DB_CONN_MAX_LIFETIME": "30m", "DEARFRIEND_DB_CONN_MAX_IDLE_TIME": "5m"},
			2 * time.Minute, Pool{MaxConns: 10, MaxIdleConns: 4, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(ModeDev, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.ShutdownTimeout != tt.shutdown {
				t.Errorf("shutdown timeout %s, want %s", c.ShutdownTimeout, tt.shutdown)
			}
			if d := cmp.Diff(tt.pool, c.DB); d != "" {
				t.Errorf("pool (-want +got):\n%s", d)
			}
		})
	}
	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"short metrics token", map[string]string{"DEARFRIEND_METRICS_TOKEN": "s3cret"}, "DEARFRIEND_METRICS_TOKEN must be at least 16 characters"},
		{"shutdown word", map[string]string{"DEARFRIEND_SHUTDOWN_TIMEOUT": "soon"}, `DEARFRIEND_SHUTDOWN_TIMEOUT must be a duration like 30s or 2m, got "soon"`},
		{"shutdown zero", map[string]string{"DEARFRIEND_SHUTDOWN_TIMEOUT": "0"}, "DEARFRIEND_SHUTDOWN_TIMEOUT must be between 1s and 1h, got 0s"},
		{"idle over max", map[string]string{"DEARFRIEND_DB_MAX_CONNS": "4", "DEARFRIEND_DB_MAX_IDLE_CONNS": "8"}, "DEARFRIEND_DB_MAX_IDLE_CONNS must be between 1 and DEARFRIEND_DB_MAX_CONNS"},
		{"negative max", map[string]string{"DEARFRIEND_DB_MAX_CONNS": "-1"}, "DEARFRIEND_DB_MAX_CONNS must be between 1 and 10000"},
		{"lifetime word", map[string]string{"DEARFRIEND_DB_CONN_MAX_LIFETIME": "long"}, `DEARFRIEND_DB_CONN_MAX_LIFETIME must be a duration like 30m, got "long"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(ModeDev, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if v := tt.env["DEARFRIEND_METRICS_TOKEN"]; v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}
