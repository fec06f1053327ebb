module github.com/wiresleuth/wiresleuth

go 1.26
