"""Progress: course structure and learners' progress from every source an LMS offers,
normalised by `services.ingest` into the `Progress` a learner's badges are decided on."""
