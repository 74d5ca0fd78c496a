"""Streamlit-side modules: pages are composed of these; all maths lives in vmonf_core."""
