"""Learned classification of incident text (README.md here): a linear model over character n-grams and
jieba words, ensembled with the responsibility list's keywords and conditions, plus urgency detection and
the consultation knowledge base. Serving code only; `training/` builds the artefact and is never imported
by the router."""
