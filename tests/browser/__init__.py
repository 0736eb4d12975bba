"""Browser tests: a package so its live kit and Chromium end with it (package scope)."""
