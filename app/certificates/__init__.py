"""Certificates of attendance: issuing, the PDF, and the public verification page."""
