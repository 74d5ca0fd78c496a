"""Streamlit-side helpers: session-state keys, the background training worker, shared widgets."""
