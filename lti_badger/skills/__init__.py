"""ESCO skills and occupations for the badge designer's skills picker: a shipped starter
index and the operator's import of ESCO's published CSV."""
