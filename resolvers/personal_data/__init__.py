"""Data protection: a person's data exported (export.py, document.py) and erased (erase.py), old
tickets removed (retention.py), all of it run in the background by `PersonalDataJobs` (jobs.py)."""
