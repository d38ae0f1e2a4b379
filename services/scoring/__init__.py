"""Scoring: the one ruler (一把尺子考核) — monthly score cards from the case and SLA event log."""
