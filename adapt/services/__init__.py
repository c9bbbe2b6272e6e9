"""Streamlit glue shared by every page: the database, the signed-in user, the
permission guard and the audit call. Pages draw; the package computes."""
