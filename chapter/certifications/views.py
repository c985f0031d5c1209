"""Exam purchase, ATTs, results, transcripts, verification and staff pages for certifications."""
