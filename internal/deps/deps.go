//go:build tools

// Package deps pins modules that the packages use, so go mod tidy keeps them
// while the packages are being written.
package deps

import (
	_ "github.com/go-mysql-org/go-mysql/client"
	_ "github.com/go-mysql-org/go-mysql/server"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/pingcap/tidb/pkg/parser"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/viper"
	_ "go.uber.org/zap"
	_ "gorm.io/driver/mysql"
	_ "gorm.io/gorm"
)
