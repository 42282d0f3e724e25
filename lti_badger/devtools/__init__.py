"""Developer tools shipped with the package: the LMS simulator used by tests and the demo."""
