module github.com/crmaccess/access

go 1.24
