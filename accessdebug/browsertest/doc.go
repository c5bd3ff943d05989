// Package browsertest drives the accessdebug pages in a real browser
// (headless chromium, through chromedp). It is a module of its own so that
// the library's go.mod stays free of chromedp, and so that the rest of the
// suite runs without a browser. The tests skip only when /usr/bin/chromium
// is missing, and even then fail on CI (CI=true): .ci/run installs it, so
// a missing browser there is a broken setup, not a reason to skip.
//
// Regenerate the screenshots under accessdebug/testdata with
//
//	go test -update
package browsertest
