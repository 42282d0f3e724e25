"""The OB 2.0 backpack an LMS profile reads a learner's badges from (Moodle's backpack client)."""
