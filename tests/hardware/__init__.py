"""Hardware adapter tests: a package so the fake microphone's server ends with them."""
