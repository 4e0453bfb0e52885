package tests

import (
	"errors"
	"testing"
	"time"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

type gormUser struct {
	ID        uint `gorm:"primaryKey"`
	Name      string
	Age       int
	Email     *string `gorm:"uniqueIndex;size:100"`
	Balance   float64 `gorm:"type:decimal(10,2)"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TestGORM drives the proxy as an application's ORM would: migrations,
// CRUD with prepared statements, and transactions.
func TestGORM(t *testing.T) {
	p, _, direct := passThrough(t)
	db, err := gorm.Open(gormmysql.Open(p.dsn("ptdb", "parseTime=true", "charset=utf8mb4")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&gormUser{}); err != nil {
		t.Fatalf("AutoMigrate: %v", err)
	}
	// A second AutoMigrate reads the table back through information_schema.
	if err := db.AutoMigrate(&gormUser{}); err != nil {
		t.Fatalf("second AutoMigrate: %v", err)
	}
	email := "ann@example.com"
	ann := gormUser{Name: "ann", Age: 30, Email: &email, Balance: 10.5}
	if err := db.Create(&ann).Error; err != nil {
		t.Fatal(err)
	}
	if ann.ID == 0 {
		t.Fatal("Create did not fill the auto-increment id")
	}
	users := []gormUser{{Name: "bob", Age: 25}, {Name: "cid", Age: 41}}
	if err := db.Create(&users).Error; err != nil {
		t.Fatal(err)
	}
	var got gormUser
	if err := db.First(&got, ann.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got.Name != "ann" || got.Email == nil || *got.Email != email || got.Balance != 10.5 {
		t.Fatalf("First = %+v", got)
	}
	if err := db.Model(&got).Update("age", 31).Error; err != nil {
		t.Fatal(err)
	}
	var older []gormUser
	if err := db.Where("age > ?", 30).Order("age").Find(&older).Error; err != nil {
		t.Fatal(err)
	}
	if len(older) != 2 || older[0].Name != "ann" || older[0].Age != 31 {
		t.Fatalf("Where age > 30: %+v", older)
	}
	// A transaction that fails rolls back; one that succeeds commits.
	boom := errors.New("boom")
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormUser{Name: "ghost", Age: 1}).Error; err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction error = %v", err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		return tx.Model(&gormUser{}).Where("name = ?", "bob").Update("balance", 99.25).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(&gormUser{}, users[1].ID).Error; err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, direct, "SELECT name, balance FROM gorm_users ORDER BY id"); len(got) != 2 ||
		got[0][0] != "ann" || got[1][0] != "bob" || got[1][1] != "99.25" {
		t.Fatalf("rows on the backend: %v", got)
	}
}
